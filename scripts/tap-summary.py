#!/usr/bin/env python3
"""Summarise the TAP results of the QEMU test runs.

usage: tap-summary.py [--host LABEL=PATH ...] [--skip LABEL=REASON ...]
                      [LABEL=PATH ...]

Each positional LABEL=PATH is the console log of one guest, LABEL being the
kernel it booted (e.g. 6.12=out/console-6.12.log).  The guest frames its
output like this (lines may end in CR and kernel console messages may be
interleaved anywhere):

    RK-TAP-BEGIN <uname -r>
    # selftest: NAME
    TAP version 13
    1..N
    ok 1 test            (or "not ok 1 test", "ok 1 - test # SKIP why")
    # exit: NAME STATUS
    # selftest: NAME2
    ...
    RK-TAP-END
    ==== dmesg ====
    <dmesg>
    ==== kmemleak ====
    <contents of /sys/kernel/debug/kmemleak after a scan>
    ==== end ====

A line "RK-GUEST-TIMEOUT ..." (added by scripts/guest.sh when it killed
QEMU) is named in the report.  Each --host LABEL=PATH is a plain TAP
stream produced on the host.  Each --skip LABEL=REASON is a kernel that
was not tested at all (e.g. no Rockchip BSP tree): one "SKIP [LABEL]
REASON" line, counted as skipped, never as failed.

Kernel reports (splats) fail the run, except those the kernel printed at
boot, before the module was loaded: every console line before RK-TAP-BEGIN,
and in the dmesg section every line before the marker run-all.sh writes to
the kernel log before its first test ("rk_dma_heap tests: begin, module not
loaded yet").  Those print a "NOTE [LABEL] ..." line with their headline.

Known bugs of the test drivers the guests load (KNOWN_FOREIGN: the driver,
the function of its frame, the message) are not the module's: a report
with that message, that frame and no frame of rk_dma_heap prints a
"NOTE [LABEL] known bug of DRIVER ..." line instead of failing.

Every problem found prints "FAIL [LABEL] what"; then each input gets a line
"kernel LABEL: P passed, F failed, S skipped" (or "host LABEL: ...") and the
very last line is "P passed, F failed" over everything.  Exit status 0 when
nothing failed and there was at least one result, 1 otherwise, 2 on a usage
error.
"""

import argparse
import re
import sys

BEGIN = "RK-TAP-BEGIN"
END = "RK-TAP-END"
DMESG = "==== dmesg ===="
KMEMLEAK = "==== kmemleak ===="
FINAL = "==== end ===="
MARKERS = (BEGIN, END, DMESG, KMEMLEAK, FINAL)
TIMEOUT = "RK-GUEST-TIMEOUT"

# Exit status of a kselftest program that skipped itself.
KSFT_SKIP = "4"

# Substrings (case-sensitive) of console or dmesg lines that mean the kernel
# complained.  The second list only adds context lines to a report: on their
# own they name no problem, and a headline is picked from the first list.
SPLAT_PATTERNS = (
    "Kernel panic",
    "Unable to handle kernel",
    "Internal error:",
    "Oops",
    "kernel BUG at",
    "BUG:",
    "WARNING:",
    "possible recursive locking detected",
    "possible circular locking dependency",
    "possible irq lock inversion",
    "inconsistent lock state",
    "possible deadlock",
    "suspicious RCU usage",
    "blocked for more than",
    "self-detected stall",
    "detected stalls",
    "KASAN",
    "UBSAN",
    "unreferenced object",
    "new suspected memory leaks",
    "Kernel memory leak detector disabled",
    "page allocation failure",
    "invoked oom-killer",
)
SPLAT_CONTEXT_PATTERNS = (
    "cut here",
    "Call trace:",
    "Backtrace:",
)
# Known bugs of the drivers the tests use, not of the module: (driver,
# function, message, cause).  A report is one of these when its first line
# has the message, a frame of the function in the driver's module follows,
# and no line of it names rk_dma_heap.
KNOWN_FOREIGN = (
    ("vivid", "vivid_thread_vid_cap", "schedule_timeout: wrong timeout value",
     "its capture thread reads jiffies twice, checks the wait with the "
     "first and sleeps for the second: a vCPU held up by the host between "
     "them makes the wait negative"),
)
# The lines of one stack dump after its message: header lines and frames.
DUMP_LINE_RE = re.compile(
    r"(\+0x[0-9a-f]+/0x[0-9a-f]+|^CPU: |^Hardware name:|^Call trace|"
    r"^Backtrace|^Tainted:|^Workqueue:|^Exception stack|^[0-9a-f]{4}: |^$)")
# A TAP line or a TAP comment, which a test may fill with any words.
TAP_TEXT_RE = re.compile(r"^\s*(#|ok\b|not ok\b)")
CONSOLE_STAMP_RE = re.compile(r"^\[\s*\d+\.\d+\]\s*(\[[TC]\d+\]\s*)?")

SPLAT_BEFORE = 5       # lines shown before a report
SPLAT_AFTER = 10       # lines shown after it
SPLAT_GAP = 10         # matches closer than this belong to one report
SPLAT_MAX_LINES = 40   # longest excerpt shown for one report
SPLAT_REPORTS = 3      # reports shown per log
BOOT_NOTES = 3         # boot-time reports named per log

# What selftests/run-all.sh writes to the kernel log before its first test:
# what the kernel reported before it is none of the module's doing.
BOOT_MARKER = "rk_dma_heap tests: begin, module not loaded yet"
# How the module's own kernel messages begin (its pr_fmt).
MODULE_PREFIX = "rk_dma_heap: "
# Built in, the heap's first lines come from rk_dma_heap_cma_setup() in
# the kernel's early setup (memblock time, one CPU, before any driver):
# they do not end the boot part, the heap's later messages do.
SETUP_PREFIXES = ("rk_dma_heap: rk_dma_heap_cma=", "rk_dma_heap: no rk_dma_heap_cma=")


def is_module_line(line):
    """A message of the module after the kernel's early setup."""
    return MODULE_PREFIX in line and not any(p in line for p in SETUP_PREFIXES)

PLAN_RE = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
RESULT_RE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
DIRECTIVE_RE = re.compile(r"(?:^|\s)#\s*(SKIP|TODO)\b\s*(.*)$", re.IGNORECASE)
SELFTEST_RE = re.compile(r"^#\s*selftest:\s*(.*?)\s*$")
EXIT_RE = re.compile(r"^#\s*exit:\s*(.*?)\s+(\S+)\s*$")
BAIL_RE = re.compile(r"^Bail out!\s*(.*)$")


class Tally:
    """Counts and messages of one input (a guest log or a host file)."""

    def __init__(self, kind, label):
        self.kind = kind
        self.label = label
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.skip_reason = None
        self.out = []

    def fail(self, what, details=()):
        self.failed += 1
        self.out.append(f"FAIL [{self.label}] {what}")
        self.out.extend(details)

    def check(self, ok, what_failed, details=()):
        if ok:
            self.passed += 1
        else:
            self.fail(what_failed, details)

    def skip(self, reason):
        """The whole input was not tested: one skip, its reason."""
        self.skipped += 1
        self.skip_reason = reason

    def summary(self):
        if self.skip_reason is not None:
            return f"SKIP [{self.label}] {self.skip_reason}"
        return (f"{self.kind} {self.label}: {self.passed} passed, "
                f"{self.failed} failed, {self.skipped} skipped")


class Program:
    """The TAP stream of one test program."""

    def __init__(self, name):
        self.name = name
        self.plan = None
        self.plans = 0
        self.results = 0
        self.ok = 0
        self.not_ok = 0
        self.skips = 0
        self.order_error = None
        self.bail = None
        self.exit_status = None
        self.exit_name = None
        self.failures = []

    def prefix(self):
        return f"{self.name}: " if self.name else ""

    def feed(self, line):
        """Takes one top-level line; returns False if it is no TAP."""
        m = PLAN_RE.match(line)
        if m:
            self.plans += 1
            if self.plans == 1:
                self.plan = int(m.group(1))
            return True
        m = RESULT_RE.match(line)
        if m:
            self.result(line, m)
            return True
        m = BAIL_RE.match(line)
        if m:
            if self.bail is None:
                self.bail = m.group(1) or "(no reason given)"
            return True
        return False

    def result(self, line, m):
        self.results += 1
        number = m.group(2)
        if (number is not None and int(number) != self.results
                and self.order_error is None):
            self.order_error = (f"test number {number} out of order "
                                f"(expected {self.results})")
        directive = DIRECTIVE_RE.search(m.group(3))
        kind = directive.group(1).upper() if directive else None
        if kind == "SKIP" or (kind == "TODO" and m.group(1) == "not ok"):
            # A known failure (TODO) counts like a skip: neither way.
            self.skips += 1
        elif m.group(1) == "ok":
            self.ok += 1
        else:
            self.not_ok += 1
            self.failures.append(f"{self.prefix()}{line.strip()}")

    def finish(self, tally, need_exit):
        """Adds the results and the problems of the program to tally."""
        tally.passed += self.ok
        tally.skipped += self.skips
        for failure in self.failures:
            tally.fail(failure)
        p = self.prefix()
        no_tap = self.plan is None and self.results == 0
        if self.bail is not None:
            tally.fail(f"{p}Bail out! {self.bail}")
        elif no_tap and need_exit and self.exit_status == KSFT_SKIP:
            tally.skipped += 1          # skipped itself without any TAP
        elif self.plan is None:
            tally.fail(f"{p}missing plan")
        elif self.plans > 1:
            tally.fail(f"{p}{self.plans} plans in one TAP stream")
        elif self.results < self.plan:
            tally.fail(f"{p}truncated TAP (planned {self.plan}, "
                       f"got {self.results})")
        elif self.results > self.plan:
            tally.fail(f"{p}too many results (planned {self.plan}, "
                       f"got {self.results})")
        elif self.plan == 0:
            tally.skipped += 1          # "1..0 # SKIP why"
        if self.order_error:
            tally.fail(f"{p}{self.order_error}")
        if not need_exit:
            return
        if self.exit_status is None:
            tally.fail(f"{p}no exit status (program did not finish)")
            return
        if self.exit_name != self.name:
            tally.fail(f"{p}exit line names {self.exit_name!r}")
        status = self.exit_status
        if status == "0":
            return
        if status == "1" and (self.not_ok or self.bail is not None):
            return                      # the failure is already counted
        if status == KSFT_SKIP and self.ok == 0 and self.not_ok == 0:
            return                      # skipped itself
        tally.fail(f"{self.name} exited with status {status}")


def read_lines(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    return [line.replace("\r", "").replace("\0", "")
            for line in text.split("\n")]


def find_markers(lines):
    """Line numbers of the framing markers, each searched after the one
    before it (None when missing), and how often RK-TAP-BEGIN occurs."""
    found = {}
    start = 0
    begins = 0
    for marker in MARKERS:
        found[marker] = None
        for i in range(start, len(lines)):
            if lines[i].strip().startswith(marker):
                found[marker] = i
                start = i + 1
                break
    for line in lines:
        if line.strip().startswith(BEGIN):
            begins += 1
    return found, begins


def section_of(markers, i):
    name = "console"
    for marker, label in ((BEGIN, "TAP"), (END, "console"),
                          (DMESG, "dmesg"), (KMEMLEAK, "kmemleak"),
                          (FINAL, "console")):
        at = markers[marker]
        if at is not None and i >= at:
            name = label
    return name


def parse_programs(lines, first, last, tally):
    """Checks the TAP in lines[first:last] of a guest log; returns how many
    programs ran."""
    programs = 0
    current = None
    for line in lines[first:last]:
        if not line.strip() or line[0].isspace():
            continue                    # blank, or nested TAP
        line = line.rstrip()
        m = SELFTEST_RE.match(line)
        if m:
            if current:
                current.finish(tally, need_exit=True)
            current = Program(m.group(1) or "unnamed")
            programs += 1
            continue
        m = EXIT_RE.match(line)
        if m:
            if current is None:
                current = Program(m.group(1))
                programs += 1
            current.exit_name = m.group(1)
            current.exit_status = m.group(2)
            current.finish(tally, need_exit=True)
            current = None
            continue
        if line.startswith("#") or line.startswith("TAP version"):
            continue
        if current is None and (PLAN_RE.match(line) or RESULT_RE.match(line)
                                or BAIL_RE.match(line)):
            current = Program("unnamed")
            programs += 1
        if current:
            current.feed(line)
    if current:
        current.finish(tally, need_exit=True)
    return programs


def is_splat(line):
    if TAP_TEXT_RE.match(line):
        return None
    for pattern in SPLAT_PATTERNS:
        if pattern in line:
            return "primary"
    for pattern in SPLAT_CONTEXT_PATTERNS:
        if pattern in line:
            return "context"
    return None


def strip_stamp(line):
    return CONSOLE_STAMP_RE.sub("", line.strip())


def boot_lines(lines, markers):
    """The line numbers the kernel printed before the module was loaded:
    the console before RK-TAP-BEGIN, and the dmesg section up to the
    boot marker of run-all.sh (none of it when the marker is missing);
    either ends early at a message of the module (a kernel with the heap
    built in, or an older guest that loaded it before the tests) other
    than the boot argument's setup line."""
    boot = set()
    if markers[BEGIN] is not None:
        for i in range(markers[BEGIN]):
            if is_module_line(lines[i]):
                break
            boot.add(i)
    dmesg = markers[DMESG]
    if dmesg is not None:
        stop = markers[KMEMLEAK]
        stop = len(lines) if stop is None else stop
        marker = next((i for i in range(dmesg + 1, stop)
                       if BOOT_MARKER in lines[i]), None)
        if marker is not None:
            end = next((i for i in range(dmesg + 1, marker)
                        if is_module_line(lines[i])), marker)
            boot.update(range(dmesg + 1, end))
    return boot


def boot_notes(label, path, lines, matches):
    """One NOTE line per distinct headline of the boot-time reports (their
    first primary line), with the line of the first and how often it is
    there (the console's and dmesg's copies each count)."""
    first = {}          # headline: line of its first report
    times = {}          # headline: how often the console or dmesg has it
    for i in matches:
        if is_splat(lines[i]) != "primary":
            continue
        headline = strip_stamp(lines[i])
        first.setdefault(headline, i)
        times[headline] = times.get(headline, 0) + 1
    notes = []
    for headline, i in first.items():
        if len(notes) == BOOT_NOTES:
            notes.append(f"NOTE [{label}] ... and more boot-time reports "
                         f"in {path}")
            break
        seen = f", seen {times[headline]} times" if times[headline] > 1 else ""
        notes.append(f"NOTE [{label}] kernel report at boot, before the "
                     f"module was loaded (not counted): {headline} "
                     f"({path} line {i + 1}{seen})")
    return notes


def foreign_reports(lines):
    """(line numbers, NOTE texts) of the reports of KNOWN_FOREIGN: each
    report's message line and the stack dump after it."""
    known = set()
    found = {}          # note text: line of its first report
    for i, line in enumerate(lines):
        for driver, function, message, cause in KNOWN_FOREIGN:
            if message not in line:
                continue
            end = i + 1
            while end < len(lines) and DUMP_LINE_RE.search(strip_stamp(lines[end])):
                end += 1
            dump = lines[i:end]
            frame = re.compile(rf"\b{re.escape(function)}\b.*\[{re.escape(driver)}\]")
            if (not any(frame.search(x) for x in dump)
                    or any("rk_dma_heap" in x for x in dump)):
                continue
            known.update(range(i, end))
            note = (f"known bug of {driver}, not of the module (not counted): "
                    f"{strip_stamp(line)} in {function}: {cause}")
            found.setdefault(note, i)
    return known, found


def splat_reports(path, lines, markers, label=None, notes=None):
    """Returns (headline, excerpt lines) or None when the log is clean.
    Reports printed at boot (boot_lines) and the known bugs of other
    drivers (KNOWN_FOREIGN) add NOTE lines to notes instead."""
    matches = []
    headline = None
    boot = boot_lines(lines, markers)
    foreign, foreign_notes = foreign_reports(lines)
    if notes is not None:
        notes.extend(f"NOTE [{label}] {note} ({path} line {i + 1})"
                     for note, i in foreign_notes.items())
    at_boot = []
    for i, line in enumerate(lines):
        kind = is_splat(line)
        if kind and i in foreign:
            continue
        if kind and i in boot:
            at_boot.append(i)
        elif kind:
            matches.append(i)
            if kind == "primary" and headline is None:
                headline = strip_stamp(line)
    if notes is not None:
        notes.extend(boot_notes(label, path, lines, at_boot))
    if not matches:
        return None
    if headline is None:
        headline = strip_stamp(lines[matches[0]])
    groups = [[matches[0]]]
    for i in matches[1:]:
        if i - groups[-1][-1] > SPLAT_GAP:
            groups.append([i])
        else:
            groups[-1].append(i)
    excerpt = []
    seen = set()
    shown = 0
    for group in groups:
        # The same report printed on the console and again by dmesg.
        key = tuple(strip_stamp(lines[i]) for i in group)
        if key in seen:
            continue
        seen.add(key)
        if shown == SPLAT_REPORTS:
            excerpt.append(f"    ... and more reports in {path}")
            break
        shown += 1
        first = max(0, group[0] - SPLAT_BEFORE)
        last = min(len(lines), group[-1] + SPLAT_AFTER + 1)
        hidden = max(0, last - first - SPLAT_MAX_LINES)
        last -= hidden
        excerpt.append(f"    --- {path} line {first + 1}-{last} "
                       f"({section_of(markers, group[0])}) ---")
        for i in range(first, last):
            mark = ">" if i in group else " "
            excerpt.append(f"    {mark}{i + 1:6d}  {lines[i].rstrip()}")
        if hidden:
            excerpt.append(f"    ... {hidden} more lines")
    plural = "s" if len(matches) > 1 else ""
    what = (f"kernel splat: {headline} "
            f"({len(matches)} suspicious line{plural})")
    return what, excerpt


def kernel_matches(label, release):
    """Whether the uname -r of the guest fits a label such as 6.1 or 6.12."""
    if not re.fullmatch(r"\d+(\.\d+)+", label):
        return True                     # not a version: nothing to check
    if not release.startswith(label):
        return False
    rest = release[len(label):]
    return not rest or not rest[0].isdigit()


def check_guest(label, path):
    tally = Tally("kernel", label)
    try:
        lines = read_lines(path)
    except OSError as e:
        tally.fail(f"no console log at {path} ({e.strerror})")
        return tally
    markers, begins = find_markers(lines)

    begin = markers[BEGIN]
    if begin is not None:
        release = lines[begin].strip()[len(BEGIN):].strip()
        if not kernel_matches(label, release):
            tally.fail(f"guest runs kernel {release or '(unknown)'}, "
                       f"not {label}")
        if begins > 1:
            tally.fail(f"{BEGIN} seen {begins} times (guest rebooted?)")
        # The TAP ends at the next marker, or with the log.
        stops = [i for i in range(begin + 1, len(lines))
                 if any(lines[i].strip().startswith(m) for m in MARKERS)]
        last = stops[0] if stops else len(lines)
        if parse_programs(lines, begin + 1, last, tally) == 0:
            tally.fail("no test programs ran")

    missing = [m for m in MARKERS if markers[m] is None]
    # scripts/guest.sh appends this line when it had to kill QEMU.
    timeout = next((line.strip() for line in lines
                    if line.startswith(TIMEOUT)), None)
    tally.check(not missing,
                "TAP incomplete (guest crashed or timed out?): missing "
                + ", ".join(repr(m) for m in missing)
                + (f"; {timeout}" if timeout else ""))
    if timeout and not missing:
        tally.fail(f"guest did not power off: {timeout}")

    notes = []
    splat = splat_reports(path, lines, markers, label, notes)
    tally.out.extend(notes)
    if splat:
        tally.fail(*splat)
    else:
        tally.passed += 1
    return tally


def check_host(label, path):
    tally = Tally("host", label)
    try:
        lines = read_lines(path)
    except OSError as e:
        tally.fail(f"no TAP file at {path} ({e.strerror})")
        return tally
    program = Program("")
    for line in lines:
        if line.strip() and not line[0].isspace():
            program.feed(line.rstrip())
    program.finish(tally, need_exit=False)
    return tally


def label_path(arg):
    label, sep, path = arg.partition("=")
    if not sep or not label or not path:
        raise argparse.ArgumentTypeError(f"expected LABEL=PATH, got {arg!r}")
    return label, path


def label_reason(arg):
    label, sep, reason = arg.partition("=")
    if not sep or not label or not reason:
        raise argparse.ArgumentTypeError(
            f"expected LABEL=REASON, got {arg!r}")
    return label, reason


def main():
    parser = argparse.ArgumentParser(
        description="Summarise the TAP of the QEMU guests and of the host.")
    parser.add_argument("--host", action="append", default=[],
                        type=label_path, metavar="LABEL=PATH",
                        help="a plain TAP file produced on the host")
    parser.add_argument("--skip", action="append", default=[],
                        type=label_reason, metavar="LABEL=REASON",
                        help="a kernel that was not tested, and why")
    parser.add_argument("guests", nargs="*", type=label_path,
                        metavar="LABEL=PATH",
                        help="the console log of the guest for kernel LABEL")
    # --skip and --host may come between the logs (check.sh adds a skip
    # wherever the kernel would have been)
    args = parser.parse_intermixed_args()
    if not args.guests and not args.host and not args.skip:
        parser.error("nothing to summarise: give LABEL=PATH arguments")

    tallies = [check_guest(label, path) for label, path in args.guests]
    tallies += [check_host(label, path) for label, path in args.host]
    for label, reason in args.skip:
        tally = Tally("kernel", label)
        tally.skip(reason)
        tallies.append(tally)
    for tally in tallies:
        for line in tally.out:
            print(line)
    for tally in tallies:
        print(tally.summary())
    passed = sum(t.passed for t in tallies)
    failed = sum(t.failed for t in tallies)
    skipped = sum(t.skipped for t in tallies)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed + failed + skipped == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
