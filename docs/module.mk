# docs/: the man pages `make install` puts under $(MANDIR), made from
# docs/NAME.in with the version from VERSION.mk in their .TH line and the
# directory rtcdm is installed in.
MAN8 := $(B)/man/rtcdm.8 $(B)/man/rtcdm-attach.8
MAN1 := $(B)/man/rtcdm-ctx.1

$(B)/man/%: docs/%.in VERSION.mk config.mk
	@mkdir -p $(@D)
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' $< >$@.tmp && mv $@.tmp $@
