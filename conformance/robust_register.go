package conformance

// robustCases lists the robustness scenarios and the hygiene checks that stress the target
// themselves, in catalogue order. Catalogue builds them on each call rather than an init
// registering them: the forkproof binary is also every forked child of the reference server,
// and a child must not spend its start-up building cases it never runs.
func robustCases() []Case {
	var cs []Case
	for _, group := range []struct {
		s  Schedule
		cs []Case
	}{
		{Long, partialCases()}, {Anytime, largeCases()}, {Long, slowCases()}, {Anytime, pipelineCases()},
		{Long, resetCases()}, {Alone, backlogCases()}, {Quiet, hygieneCases()},
	} {
		for _, c := range group.cs {
			if c.Schedule == Anytime {
				c.Schedule = group.s
			}
			cs = append(cs, c)
		}
	}
	return cs
}
