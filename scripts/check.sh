#!/usr/bin/env bash
# The test command (make check): installs what is missing, builds the test
# kernels (cached), runs the host checks, boots each kernel in QEMU with the
# module and the tests, and summarises everything. The last line is
# "N passed, N failed"; the exit status is non-zero on any failure.
#
# Kernels are built one after the other in the background; each kernel's
# boots, and the host checks, are jobs that start as soon as what they need
# is there, the longest first, as many at a time as the machine has cores
# (RK_GUESTS; one fewer while a kernel compiles). Every step prints a line,
# and a line every minute says what is running.
set -uo pipefail
. "$(dirname "$0")/common.sh"
. "$RK_TOP/scripts/progress.sh"

start=$(date +%s)
out="$RK_TOP/out"
host="$out/host"
state="$out/.check"
rm -rf "$state"
mkdir -p "$host" "$state"
slots=${RK_GUESTS:-$(nproc)}
[ "$slots" -ge 1 ] || slots=1

# The boots of every kernel, and those only the arm64 debug kernels add
BOOTS="check variant:nonode variant:badregion variant:unaligned
	variant:carveout variant:carvepool"
BOOTS_ARM64_DEBUG="variant:highmem variant:bounce"

# boot_modes KERNEL: the guests one kernel boots (those of MODES only, when
# it is given). A bsp-intree kernel's test script boots its own (one job
# here).
boot_modes() {
	local m
	if [ -n "${MODES:-}" ]; then
		for m in $(all_modes "$1"); do
			case " $MODES " in *" $m "*) echo "$m" ;; esac
		done
		return
	fi
	all_modes "$1"
}

all_modes() {
	rk_kernel "$1"
	if [ "$K_KIND" = bsp-intree ]; then
		echo suite
		return
	fi
	echo "$BOOTS"
	# RAM above 4 GiB and bouncing importers: the shapes of RK35xx
	# boards, and the only guests with QEMU's RAM there (ARM32 would need
	# LPAE kernels). The arm64 debug kernels cover both backends (6.12:
	# dma_alloc_pages(), 7.2: cma_alloc()) with KASAN, lockdep and DMA-API
	# debugging watching; Debian's add minutes to the run and nothing
	# those do not see.
	[ "$K_ARCH" != arm64 ] || [ "$K_KIND" != debug ] ||
		echo "$BOOTS_ARM64_DEBUG"
}

HOST_CHECKS="dt-check tap-parser install dkms style"

# The Rockchip BSP kernels need the BSP tree, which not every machine has
# (BSP_SRC, or the one prepared in the cache): without one they are skipped,
# one SKIP line in the summary. Any other trouble with the tree (a wrong
# BSP_SRC) is left to their build, which fails and says why.
kernels=$RK_KERNELS
skips=()
bsp_status=0
"$RK_TOP/scripts/bsp-source.sh" > /dev/null 2> "$host/bsp-source.log" || bsp_status=$?
if [ "$bsp_status" = 2 ]; then
	for v in $RK_BSP_KERNELS $RK_BSP_INTREE_KERNELS; do
		skips+=(--skip "$v=no Rockchip BSP tree: give one with BSP_SRC=/path")
	done
else
	kernels="$kernels $RK_BSP_KERNELS"
fi
# style-check.sh also checks the module's warnings on these
export RK_CHECK_KERNELS=$kernels
# the BSP kernel with rk_dma_heap built in has its own boots
[ "$bsp_status" = 2 ] || kernels="$kernels $RK_BSP_INTREE_KERNELS"

# The build order: the slow debug kernels alternate with Debian's (ready
# in seconds), so that a first run has guests to boot while it compiles;
# the KASAN kernels early, a quick one last.
order="debian-6.1 bsp-5.10 7.2 bsp-intree-5.10 debian-7.2 arm64-7.2
	debian-arm64-7.2 6.12 debian-6.12 arm64-6.12 debian-arm64-6.12 6.1
	debian-5.10 5.10"
[ "$(echo $order | tr ' ' '\n' | sort)" = "$(echo $RK_KERNELS $RK_BSP_KERNELS $RK_BSP_INTREE_KERNELS | tr ' ' '\n' | sort)" ] ||
	rk_die "scripts/check.sh: the build order does not list every kernel"
# The quick loop while working: KERNELS="7.2 debian-6.12" (make check
# KERNELS=...) runs those kernels only, MODES="check variant:carveout"
# those boots only; the host checks that need a kernel not in KERNELS
# are left out.
if [ -n "${KERNELS:-}" ]; then
	for v in $KERNELS; do
		case " $kernels " in *" $v "*) ;; *) rk_die "KERNELS: '$v' is not one of: $kernels" ;; esac
	done
	kernels=$KERNELS
	RK_CHECK_KERNELS=$KERNELS
	case " $KERNELS " in
	*" debian-6.12 "*) ;;
	*) HOST_CHECKS="dt-check tap-parser style" ;;
	esac
fi
# without the BSP tree: the order less the BSP kernels
order=$(for v in $order; do
	case " $kernels " in *" $v "*) echo "$v" ;; esac
done)

total=$((2 + $(echo $HOST_CHECKS | wc -w)))
for v in $order; do
	total=$((total + 1 + $(boot_modes "$v" | wc -w)))
done
rk_progress_start "$total"
rk_say "make check: $(echo $order | wc -w) kernels, $total steps, $slots guests at a time; consoles and logs in $out"
[ "$bsp_status" != 2 ] || rk_say "no Rockchip BSP tree: $RK_BSP_KERNELS $RK_BSP_INTREE_KERNELS skipped"

rk_step "host packages (scripts/deps.sh)"
"$RK_TOP/scripts/deps.sh" || rk_die "installing packages failed"
export RK_GUEST_PREBUILT=1

# What every kernel of an architecture shares: the test programs and the
# device tree, made once here (build.sh makes them for demo and run).
rk_step "test programs and device trees for ARM32 and arm64"
for arch in arm arm64; do
	"$RK_TOP/scripts/build-tests.sh" "$arch" 2> "$host/build-tests-$arch.log" ||
		rk_say "building the test programs for $arch failed: $host/build-tests-$arch.log"
	"$RK_TOP/scripts/dtb.sh" "$arch" "$out/dtb/$arch" > /dev/null ||
		rk_say "building the device tree for $arch failed"
done
export RK_SHARED_READY=1

# build_kernel KERNEL: what one kernel's boots need (the module is built
# into a bsp-intree kernel, whose test script makes its own initramfs)
build_kernel() {
	rk_kernel "$1"
	if [ "$K_KIND" = bsp-intree ]; then
		rk_kernel_build "$1"
	else
		"$RK_TOP/scripts/build.sh" "$1"
	fi
}

# The builder: each kernel, one at a time; "KERNEL ok|failed
# SECONDS" in $state/built when one is done, "KERNEL START" in
# $state/building while one builds.
builder() {
	local v t0 ready='' compile=''
	# what is cached first: a compile (a new kernel, the in-tree BSP
	# kernel after a change of the module) holds up no other kernel
	for v in $order; do
		if rk_kernel_cached "$v"; then
			ready="$ready $v"
		else
			compile="$compile $v"
		fi
	done
	for v in $ready $compile; do
		mkdir -p "$out/$v"
		t0=$(date +%s)
		echo "$v $t0" > "$state/building"
		if build_kernel "$v" > /dev/null 2> "$out/$v/build.log"; then
			echo "$v ok $(($(date +%s) - t0))"
		else
			echo "$v failed $(($(date +%s) - t0))"
		fi >> "$state/built"
	done
	rm -f "$state/building"
}

# Debian's kernels are downloaded and prepared in the background meanwhile
# (mostly network and unpacking).
(
	for v in $RK_KERNELS; do
		rk_kernel "$v"
		[ "$K_KIND" = debian ] || continue
		"$RK_TOP/scripts/debian-kernel.sh" "$v" > /dev/null 2>&1 || true
	done
) &
prefetch=$!
: > "$state/built"
builder &
builder_pid=$!
# stopped, it stops what it started: the process group, and the guests
# through their timeout, which passes the signal on
trap 'trap - INT TERM; kill 0; exit 130' INT TERM

# build_estimate KERNEL: seconds its build took last time it compiled
build_estimate() {
	local d
	rk_kernel "$1"
	case "$K_KIND" in
	debug) [ "$K_ARCH" = arm64 ] && d=1500 || d=900 ;;
	bsp*) d=600 ;;
	*) d=60 ;;
	esac
	rk_time_get "build-$1" "$d"
}

# job_estimate JOB: seconds JOB ("boot KERNEL MODE" or "host NAME") took
# last time
job_estimate() {
	local kind=$1 v=$2 mode=${3:-} d
	if [ "$kind" = host ]; then
		rk_time_get "host-$v" 120
		return
	fi
	rk_kernel "$v"
	case "$mode" in
	check|variant:carveout|suite) d=600 ;;
	variant:highmem) d=500 ;;
	*) d=120 ;;
	esac
	[ "$K_ARCH" != arm64 ] || [ "$K_KIND" != debug ] || d=$((d * 2))
	rk_time_get "boot-$v-$mode" "$d"
}

# host_check NAME: one host check, its TAP in $host/NAME.tap
host_check() {
	case "$1" in
	dt-check) "$RK_TOP/scripts/dt-check.sh" ;;
	tap-parser) "$RK_TOP/scripts/test-tap-summary.sh" ;;
	install) "$RK_TOP/scripts/install-check.sh" ;;
	# boots debian-6.12's guest through guest.sh run
	dkms) "$RK_TOP/scripts/dkms-check.sh" debian-6.12 ;;
	style) "$RK_TOP/scripts/style-check.sh" ;;
	esac > "$host/$1.tap" 2>&1
}

# host_ready NAME: whether what the host check needs is there
host_ready() {
	case "$1" in
	install|dkms) grep -q '^debian-6.12 ' "$state/built" ;;
	style) [ ! -e "$state/building" ] && ! kill -0 "$builder_pid" 2>/dev/null ;;
	*) true ;;
	esac
}

# boot_log KERNEL MODE: where guest.sh writes the console of that boot
boot_log() {
	echo "$out/$1/console-${2/:/-}.log"
}

# boot_label KERNEL MODE: the boot's label in the summary
boot_label() {
	case "$2" in
	check) echo "$1" ;;
	*) echo "$1-${2#variant:}" ;;
	esac
}

queue=()		# jobs ready to start: "boot KERNEL MODE" or "host NAME"
hosts_left=$HOST_CHECKS	# host checks not queued yet
declare -A job_of=() since=()	# running jobs by pid: the job, its start
declare -A est=()		# seconds each job took last time, by job
seen=0			# lines of $state/built read

# take_built: queue the boots of the kernels built since the last call
take_built() {
	local v st secs mode modes
	while read -r v st secs; do
		seen=$((seen + 1))
		if [ "$st" = ok ]; then
			rk_step "Linux $v ready ($secs s)"
			# a compile, not a cache hit: what the next first run takes
			[ "$secs" -lt 120 ] || rk_time_put "build-$v" "$secs"
			echo "$secs" > "$state/build-$v"
			for mode in $(boot_modes "$v"); do
				enqueue "boot $v $mode"
			done
			continue
		fi
		# in the summary as the kernel's failed boot, with the reason
		rk_step "building for Linux $v failed: $out/$v/build.log"
		{ tail -n 30 "$out/$v/build.log"; echo "building for Linux $v failed"; } \
			> "$out/$v/console-check.log"
		# its boots are steps that will not run; the summary has its
		# failure in its first boot's place
		modes=$(boot_modes "$v")
		set -- $modes
		RK_P_STEP=$((RK_P_STEP + $#))
		echo "$v=$out/$v/console-check.log" > "$state/args-$v-$1"
	done < <(tail -n +$((seen + 1)) "$state/built")
}

# take_hosts: queue the host checks whose needs are met
take_hosts() {
	local h left=
	for h in $hosts_left; do
		if host_ready "$h"; then
			enqueue "host $h"
		else
			left="$left $h"
		fi
	done
	hosts_left=$left
}

# enqueue JOB: JOB is ready to start; its estimate is kept in est
enqueue() {
	queue+=("$1")
	# shellcheck disable=SC2086
	est[$1]=$(job_estimate $1)
}

# next_job: index in queue of the job with the longest estimate
next_job() {
	local i best=0 max=-1
	for i in "${!queue[@]}"; do
		[ "${est[${queue[$i]}]}" -le "$max" ] || { max=${est[${queue[$i]}]}; best=$i; }
	done
	echo "$best"
}

# start_job JOB: run JOB in the background
start_job() {
	local kind v mode
	read -r kind v mode <<< "$1"
	case "$kind" in
	boot)
		rk_step "booting Linux $v ($mode), about $(rk_mmss "${est[$1]}")"
		if [ "$mode" = suite ]; then
			"$RK_TOP/scripts/bsp-intree-test.sh" > "$out/$v/test.log" 2>&1 &
		else
			"$RK_TOP/scripts/guest.sh" "$mode" "$v" > /dev/null \
				2> "$out/$v/guest-${mode/:/-}.err" &
		fi ;;
	host)
		rk_step "host check: $v"
		host_check "$v" & ;;
	esac
	job_of[$!]=$1
	since[$!]=$(date +%s)
}

# finish_job PID STATUS: what a job leaves for the summary
finish_job() {
	local kind v mode secs log
	read -r kind v mode <<< "${job_of[$1]}"
	secs=$(($(date +%s) - ${since[$1]}))
	case "$kind" in
	boot)
		rk_time_put "boot-$v-$mode" "$secs"
		echo "$secs" > "$state/time-$v-$mode"
		if [ "$mode" = suite ]; then
			# its boots wrote their summary arguments themselves
			cp "$out/$v/summary.args" "$state/args-$v-suite" 2>/dev/null
		else
			log=$(boot_log "$v" "$mode")
			[ "$2" = 0 ] || echo "guest.sh $mode $v failed (status $2)" >> "$log"
			echo "$(boot_label "$v" "$mode")=$log" > "$state/args-$v-$mode"
		fi
		rk_say "done: Linux $v ($mode) in $(rk_mmss "$secs")" ;;
	host)
		rk_time_put "host-$v" "$secs"
		echo "$secs" > "$state/time-host-$v"
		rk_say "done: host check $v in $(rk_mmss "$secs")" ;;
	esac
	unset "est[${job_of[$1]}]" "job_of[$1]" "since[$1]"
}

# heartbeat: what runs, when nothing was said for a minute
heartbeat() {
	local pid v mode now line='' b t0
	[ "$(rk_quiet_for)" -ge 60 ] || return 0
	now=$(date +%s)
	if read -r b t0 2>/dev/null < "$state/building"; then
		line="building Linux $b ($(rk_mmss $((now - t0))), $(rk_eta $((now - t0)) "$(build_estimate "$b")"))"
	fi
	for pid in "${!job_of[@]}"; do
		read -r _ v mode <<< "${job_of[$pid]}"
		[ -z "$line" ] || line="$line; "
		line="$line$v${mode:+ $mode} ($(rk_mmss $((now - ${since[$pid]}))), $(rk_eta $((now - ${since[$pid]})) "${est[${job_of[$pid]}]}"))"
	done
	rk_say "running: ${line:-nothing}"
}

# free_slots: how many jobs may start now. While a kernel compiles (more
# than a minute on one build: a cache hit takes seconds), one fewer if the
# guests would run out of work before it is done (a first run: the
# compiles are what it waits for), all of them if not (a warm run with
# one kernel to compile: the guests are).
free_slots() {
	local n=$slots b t0 j work=0 left
	if read -r b t0 2>/dev/null < "$state/building" &&
		[ $(($(date +%s) - t0)) -ge 60 ] && [ "$n" -gt 1 ]; then
		for j in "${queue[@]}"; do
			work=$((work + ${est[$j]}))
		done
		left=$(($(build_estimate "$b") - ($(date +%s) - t0)))
		[ $((work / n)) -gt "$left" ] || n=$((n - 1))
	fi
	echo $((n - ${#job_of[@]}))
}

while :; do
	take_built
	take_hosts
	while [ "${#queue[@]}" -gt 0 ] && [ "$(free_slots)" -gt 0 ]; do
		i=$(next_job)
		start_job "${queue[$i]}"
		unset "queue[$i]"
		queue=(${queue[@]+"${queue[@]}"})
	done
	for pid in "${!job_of[@]}"; do
		kill -0 "$pid" 2>/dev/null && continue
		wait "$pid"
		finish_job "$pid" $?
	done
	if ! kill -0 "$builder_pid" 2>/dev/null && [ "$seen" -ge "$(wc -l < "$state/built")" ] &&
		[ "${#queue[@]}" = 0 ] && [ "${#job_of[@]}" = 0 ] && [ -z "$hosts_left" ]; then
		break
	fi
	heartbeat
	sleep 2
done
wait "$builder_pid" "$prefetch"

# The table of where the time went, kept in out/times.txt
times_table() {
	local v mode t b sum
	printf '%-18s %7s' kernel build
	for mode in $BOOTS $BOOTS_ARM64_DEBUG; do
		printf ' %9s' "${mode#variant:}"
	done
	printf ' %9s\n' "boots"
	for v in $order; do
		b=$(cat "$state/build-$v" 2>/dev/null || echo -)
		printf '%-18s %7s' "$v" "$b"
		sum=0
		for mode in $BOOTS $BOOTS_ARM64_DEBUG; do
			t=$(cat "$state/time-$v-$mode" 2>/dev/null || echo -)
			[ "$t" = - ] || sum=$((sum + t))
			printf ' %9s' "$t"
		done
		t=$(cat "$state/time-$v-suite" 2>/dev/null || echo)
		[ -z "$t" ] || sum=$((sum + t))
		printf ' %9s\n' "$sum"
	done
	for h in $HOST_CHECKS; do
		printf '%-18s %7s\n' "host $h" "$(cat "$state/time-host-$h" 2>/dev/null || echo -)"
	done
	echo "seconds; wall clock $(($(date +%s) - start)) s with $slots guests at a time"
}
times_table > "$out/times.txt"
rk_say "finished; where the time went (also in $out/times.txt):"
cat "$out/times.txt" >&2

args=()
for h in $HOST_CHECKS; do
	args+=(--host "$h=$host/$h.tap")
done
args+=(${skips[@]+"${skips[@]}"})
for v in $kernels; do
	for mode in $(boot_modes "$v"); do
		[ -e "$state/args-$v-$mode" ] || continue
		while IFS= read -r a; do
			args+=("$a")
		done < "$state/args-$v-$mode"
	done
done
exec python3 "$RK_TOP/scripts/tap-summary.py" "${args[@]}"
