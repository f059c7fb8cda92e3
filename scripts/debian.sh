# shellcheck shell=bash
# Debian packages from other suites (bullseye, bookworm-backports, sid) for
# the test rig: kernel sources, prebuilt kernels and their headers. Each
# suite has a private apt configuration under $RK_CACHE/apt/SUITE, so the
# host's own sources and installed packages never change; packages are
# downloaded (never installed) into $RK_CACHE/debs and unpacked with
# dpkg-deb where they are needed. Source after common.sh, do not run.

RK_DEB_ARCHS="amd64 armhf arm64"

# rk_deb_sources SUITE: the sources.list lines of SUITE
rk_deb_sources() {
	local keys=/usr/share/keyrings/debian-archive-keyring.gpg
	local main="deb [signed-by=$keys] http://deb.debian.org/debian"
	local sec="deb [signed-by=$keys] http://deb.debian.org/debian-security"
	case "$1" in
	bullseye)
		echo "$main bullseye main" ;;
	bookworm)
		echo "$main bookworm main"
		echo "$main bookworm-updates main"
		# The mirror's armhf index of bookworm-security fails its checksum
		# (seen 2026-11), and apt then drops the whole suite; what we take
		# from it (linux-source-6.12) is in the amd64 index too.
		echo "${sec/\[/[arch=amd64,arm64 } bookworm-security main" ;;
	bookworm-backports)
		echo "$main bookworm-backports main" ;;
	sid)
		echo "$main sid main" ;;
	*)
		rk_die "unknown Debian suite '$1'" ;;
	esac
}

# rk_apt SUITE apt-get|apt-cache ARGS...: run an apt command against SUITE
# only, with its private lists, cache and an empty dpkg status.
rk_apt() {
	local suite=$1 cmd=$2 dir="$RK_CACHE/apt/$1" a opts=()
	shift 2
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	[ -e "$dir/sources.list" ] || rk_deb_sources "$suite" > "$dir/sources.list"
	[ -e "$dir/status" ] || : > "$dir/status"
	opts=(-o "Dir::Etc::SourceList=$dir/sources.list"
		-o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$dir/lists"
		-o "Dir::Cache=$dir/cache"
		-o "Dir::State::status=$dir/status"
		-o APT::Sandbox::User=root
		-o Debug::NoLocking=1)
	for a in $RK_DEB_ARCHS; do
		opts+=(-o "APT::Architectures::=$a")
	done
	"$cmd" "${opts[@]}" "$@"
}

# rk_apt_update SUITE [force]: download SUITE's package indexes, once (or
# again with "force"); one failed index of a mirror mid-sync is retried.
rk_apt_update() {
	local dir="$RK_CACHE/apt/$1"
	if [ "${2:-}" != force ] && [ -e "$dir/.updated" ]; then
		return 0
	fi
	rk_log "downloading the package index of Debian $1"
	# A mirror mid-sync fails an index now and then (seen: one armhf list
	# of a security suite); apt keeps what it got, which is enough unless
	# the package we want was in that list, and then the download fails.
	if ! rk_apt "$1" apt-get -q -q update >&2; then
		sleep 5
		rk_apt "$1" apt-get -q -q update >&2 ||
			rk_log "some indexes of Debian $1 failed; going on with the others"
	fi
	ls "$dir/lists/"*_Packages* > /dev/null 2>&1 ||
		rk_die "cannot download the package index of Debian $1"
	touch "$dir/.updated"
}

# rk_deb_field SUITE PKG[:ARCH] FIELD: a field of PKG's candidate in SUITE
rk_deb_field() {
	rk_apt_update "$1" || return 1
	rk_apt "$1" apt-cache show --no-all-versions "$2" 2>/dev/null |
		sed -n "s/^$3: //p" | head -n 1
}

# rk_deb_version SUITE PKG[:ARCH]: PKG's candidate version in SUITE
rk_deb_version() {
	local ver
	ver=$(rk_deb_field "$1" "$2" Version) || return 1
	[ -n "$ver" ] || rk_die "Debian $1 has no package $2"
	echo "$ver"
}

# rk_deb_fetch SUITE PKG[:ARCH]: download PKG's candidate into
# $RK_CACHE/debs (once) and print the .deb's path. A package the index
# names but the mirror no longer has is retried with a fresh index.
rk_deb_fetch() {
	local suite=$1 pkg=$2 name ver arch deb dir="$RK_CACHE/debs"
	name=${pkg%%:*}
	ver=$(rk_deb_version "$suite" "$pkg") || return 1
	arch=$(rk_deb_field "$suite" "$pkg" Architecture) || return 1
	deb="$dir/${name}_${ver//:/%3a}_$arch.deb"
	if [ ! -s "$deb" ]; then
		mkdir -p "$dir"
		rk_log "downloading $pkg $ver from Debian $suite"
		if ! (cd "$dir" && rk_apt "$suite" apt-get -q -q download "$pkg=$ver" >&2); then
			rk_apt_update "$suite" force
			ver=$(rk_deb_version "$suite" "$pkg")
			deb="$dir/${name}_${ver//:/%3a}_$arch.deb"
			(cd "$dir" && rk_apt "$suite" apt-get -q -q download "$pkg=$ver" >&2) ||
				rk_die "cannot download $pkg from Debian $suite"
		fi
	fi
	[ -s "$deb" ] || rk_die "downloaded $pkg but found no $deb"
	echo "$deb"
}

# rk_deb_unpack DEB DIR: unpack DEB into DIR (created), once
rk_deb_unpack() {
	[ -e "$2/.unpacked-$(basename "$1")" ] && return 0
	mkdir -p "$2"
	dpkg-deb -x "$1" "$2"
	touch "$2/.unpacked-$(basename "$1")"
}
