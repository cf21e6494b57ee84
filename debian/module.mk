# debian/: the Debian package (make deb) and the version check.
#
# make deb copies the source tree (without build directories, .git and
# config.mk/config.h) to $(B)/deb/rtcdm-VERSION/ and runs
# `dpkg-buildpackage -us -uc -b` there, so the package build writes nothing
# outside $(B): the package and its .buildinfo/.changes land in $(B)/deb/,
# then lintian (when installed) checks them and fails on errors and warnings.

DEB_DIR := $(B)/deb
DEB_SRC := $(DEB_DIR)/rtcdm-$(VERSION)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE := $(DEB_DIR)/rtcdm_$(VERSION)_$(DEB_ARCH).deb
DEB_CHANGES := $(DEB_DIR)/rtcdm_$(VERSION)_$(DEB_ARCH).changes
DEB_JOBS ?= 2
# What the copy leaves out (tar patterns against ./PATH).
DEB_EXCLUDE := ./.git ./build ./build-* ./$(BUILD) ./config.mk ./config.h \
	./debian/rtcdm ./debian/rtcdm-dbgsym ./debian/.debhelper ./debian/files \
	./debian/*.substvars ./debian/*.debhelper.log ./debian/debhelper-build-stamp

# The version is VERSION.mk's everywhere: debian/changelog's newest entry,
# the programs' and rtcdm-attach's --version, the generated man pages' .TH lines.
check-version: $(B)/rtcdm $(B)/rtcdm-ctx $(B)/rtcdm-attach $(MAN8) $(MAN1)
	@fail=0; \
	deb=$$(sed -n '1s/^rtcdm (\([^)]*\)).*/\1/p' debian/changelog); \
	[ "$$deb" = "$(VERSION)" ] || { echo "check-version: debian/changelog says '$$deb', VERSION.mk says '$(VERSION)'" >&2; fail=1; }; \
	for p in rtcdm rtcdm-ctx rtcdm-attach; do \
		v=$$($(B)/$$p --version); \
		[ "$$v" = "$$p $(VERSION)" ] || { echo "check-version: $(B)/$$p --version says '$$v', VERSION.mk says '$(VERSION)'" >&2; fail=1; }; \
	done; \
	for m in $(MAN8) $(MAN1); do \
		grep -q '^\.TH .* "rtcdm $(VERSION)" ' $$m || { echo "check-version: $$m: .TH does not name rtcdm $(VERSION)" >&2; fail=1; }; \
	done; \
	[ $$fail = 0 ] && echo "check-version: $(VERSION) in VERSION.mk, debian/changelog, --version and the man pages"

deb: check-version
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
		{ echo "make deb: dpkg-buildpackage and dh not found: run scripts/install-deps --deb as root" >&2; exit 1; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	tar -cf - $(DEB_EXCLUDE:%=--exclude=%) . | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b -J$(DEB_JOBS)
	@test -f $(DEB_FILE) || { echo "make deb: $(DEB_FILE) was not made" >&2; exit 1; }
	@if command -v lintian >/dev/null; then \
		echo "lintian $(DEB_CHANGES)"; \
		lintian --fail-on error,warning $(DEB_CHANGES) || exit 1; \
	else \
		echo "make deb: lintian not installed: not run (scripts/install-deps --deb installs it)"; \
	fi
	@echo "make deb: $(DEB_FILE)"

.PHONY: check-version deb
