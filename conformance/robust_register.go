package conformance

func init() {
	Register(robustCases()...)
}

// robustCases lists the robustness scenarios and the hygiene checks that stress the target
// themselves, in catalogue order.
func robustCases() []Case {
	var cs []Case
	for _, group := range [][]Case{partialCases(), largeCases(), slowCases(), pipelineCases(), resetCases(), backlogCases(), hygieneCases()} {
		cs = append(cs, group...)
	}
	return cs
}
