# Sourced by ci scripts. stray_pids MARK lists the processes (other than this shell) whose
# environment holds the exact entry MARK ("NAME=value"): what a script started and tagged with
# it, such as a server forkproof could not stop. No other process can carry it.
stray_pids() {
	local env pid
	for env in /proc/[0-9]*/environ; do
		pid=${env#/proc/}
		pid=${pid%/environ}
		[ "$pid" != $$ ] || continue
		tr '\0' '\n' 2>/dev/null <"$env" | grep -qxF "$1" && echo "$pid"
	done
	return 0
}
