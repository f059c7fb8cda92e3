# shellcheck shell=bash
# Progress lines of make check and the times they estimate from. Source it
# after common.sh, then call rk_progress_start TOTAL once.
#
# Every line starts with the time since the start, "[mm:ss]"; rk_step also
# counts steps ("step 7/98"). How long each step took last time is kept in
# $RK_CACHE/times, one "KEY SECONDS" line per step, so that the next run
# can say how long a kernel build or a boot will take on this machine.

RK_TIMES="$RK_CACHE/times"

# rk_progress_start TOTAL: start the clock and the step count
rk_progress_start() {
	RK_P_START=$(date +%s)
	RK_P_TOTAL=$1
	RK_P_STEP=0
	RK_P_SAID=$RK_P_START
}

# rk_mmss SECONDS: "m:ss"
rk_mmss() {
	printf '%d:%02d' $(($1 / 60)) $(($1 % 60))
}

# rk_say LINE: one progress line on stderr
rk_say() {
	local now
	now=$(date +%s)
	RK_P_SAID=$now
	printf '[%s] %s\n' "$(rk_mmss $((now - RK_P_START)))" "$*" >&2
}

# rk_step LINE: the next step's progress line
rk_step() {
	RK_P_STEP=$((RK_P_STEP + 1))
	rk_say "step $RK_P_STEP/$RK_P_TOTAL: $*"
}

# rk_quiet_for: seconds since the last progress line
rk_quiet_for() {
	echo $(($(date +%s) - RK_P_SAID))
}

# rk_time_get KEY DEFAULT: the seconds KEY took last time, or DEFAULT
rk_time_get() {
	local t
	t=$(awk -v k="$1" '$1 == k { t = $2 } END { print t }' "$RK_TIMES" 2>/dev/null)
	echo "${t:-$2}"
}

# rk_time_put KEY SECONDS: remember what KEY took
rk_time_put() {
	mkdir -p "$RK_CACHE"
	{ grep -v "^$1 " "$RK_TIMES" 2>/dev/null; echo "$1 $2"; } > "$RK_TIMES.new"
	mv "$RK_TIMES.new" "$RK_TIMES"
}

# rk_eta ELAPSED ESTIMATE: "about m:ss left", or that it is over the
# estimate (what it took last time, or a guess on a first run)
rk_eta() {
	if [ "$1" -lt "$2" ]; then
		echo "about $(rk_mmss $(($2 - $1))) left"
	else
		echo "over the estimated $(rk_mmss "$2")"
	fi
}
