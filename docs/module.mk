# docs/: the man pages `make install` puts under $(MANDIR), made from
# docs/NAME.in with the version from VERSION.mk in their .TH line.
MAN8 := $(B)/man/rtcdm.8
MAN1 := $(B)/man/rtcdm-ctx.1

$(B)/man/%: docs/%.in VERSION.mk
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/g' $< >$@.tmp && mv $@.tmp $@
