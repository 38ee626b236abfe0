#!/bin/sh
# Installs camera-service from this tarball on a system without dpkg: the same files as
# the Debian package, then the same setup as its postinst (user, directories, JWT secret,
# unit enabled and started where systemd runs). Idempotent: run it again to upgrade; an
# existing /etc/camera-service/config.yml is kept (the new default is written beside it
# as config.yml.new). Needs ffmpeg and v4l-utils from the system's packages.
#
#   sudo ./install.sh             install or upgrade
#   sudo ./install.sh --uninstall remove the program, keep configuration and data
#   sudo ./install.sh --purge     remove everything, data and the user too
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=/

fail() {
	echo "install.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || fail "run it as root (sudo $0)."

remove_program() {
	if [ -d /run/systemd/system ]; then
		systemctl disable --now camera-service.service >/dev/null 2>&1 || true
	fi
	rm -rf /usr/lib/camera-service /usr/share/doc/camera-service
	while read -r file; do
		rm -f "$ROOT$file"
	done <"$HERE/files.list"
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
	fi
}

case "${1:-}" in
--uninstall)
	remove_program
	echo "camera-service removed; configuration in /etc/camera-service and data in /var/lib/camera-service are kept."
	exit 0
	;;
--purge)
	remove_program
	sh "$HERE/scripts/postrm" purge
	echo "camera-service purged: configuration, secret, data, logs and the camera-service user are gone."
	exit 0
	;;
"") ;;
*) fail "unknown option $1; use no option to install, --uninstall or --purge." ;;
esac

command -v ffmpeg >/dev/null || echo "install.sh: warning: ffmpeg is not installed; install it with the system's package manager." >&2
command -v v4l2-ctl >/dev/null || echo "install.sh: warning: v4l2-ctl (v4l-utils) is not installed; cameras cannot be probed without it." >&2

# The program: replaced whole, so no file of an older release stays behind.
rm -rf /usr/lib/camera-service.new
cp -a "$HERE/root/usr/lib/camera-service" /usr/lib/camera-service.new
rm -rf /usr/lib/camera-service.old
if [ -d /usr/lib/camera-service ]; then
	mv /usr/lib/camera-service /usr/lib/camera-service.old
fi
mv /usr/lib/camera-service.new /usr/lib/camera-service
rm -rf /usr/lib/camera-service.old

# Everything else but the configuration.
(cd "$HERE/root" && find . -path ./usr/lib/camera-service -prune -o -path ./etc -prune -o \( -type f -o -type l \) -print) |
	while read -r file; do
		mkdir -p "$(dirname "$ROOT$file")"
		cp -a "$HERE/root/$file" "$ROOT$file"
	done

# The configuration: kept when there is one, like a dpkg conffile.
mkdir -p /etc/camera-service
if [ -e /etc/camera-service/config.yml ]; then
	if ! cmp -s "$HERE/root/etc/camera-service/config.yml" /etc/camera-service/config.yml; then
		cp "$HERE/root/etc/camera-service/config.yml" /etc/camera-service/config.yml.new
		echo "install.sh: kept your /etc/camera-service/config.yml; the new default is config.yml.new."
	fi
else
	cp "$HERE/root/etc/camera-service/config.yml" /etc/camera-service/config.yml
	chmod 0644 /etc/camera-service/config.yml
fi

sh "$HERE/scripts/postinst" configure
if [ -d /run/systemd/system ] && ! command -v deb-systemd-invoke >/dev/null; then
	systemctl daemon-reload
	systemctl enable camera-service.service
	systemctl restart camera-service.service
fi
echo "camera-service $(cat "$HERE/VERSION") installed. Status: systemctl status camera-service; health: curl http://127.0.0.1:8003/health/ready"
