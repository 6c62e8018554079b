package conformance

// robustCases lists the robustness scenarios and the hygiene checks that stress the target
// themselves, in catalogue order. Catalogue builds them on each call rather than an init
// registering them: the forkproof binary is also every forked child of the reference server,
// and a child must not spend its start-up building cases it never runs.
func robustCases() []Case {
	var cs []Case
	for _, group := range [][]Case{partialCases(), largeCases(), slowCases(), pipelineCases(), resetCases(), backlogCases(), hygieneCases()} {
		cs = append(cs, group...)
	}
	return cs
}
