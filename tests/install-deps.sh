#!/bin/sh
# Installs every Debian 12 package dialogd needs to build, run and test (as root: through
# sudo when run by another user).
set -e
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential autoconf automake pkg-config ca-certificates python3 \
	libpcre2-dev libutf8proc-dev libjson-c-dev libinih-dev libsqlite3-dev \
	libetpan-dev libcurl4-gnutls-dev libwebsockets-dev libcmocka-dev
