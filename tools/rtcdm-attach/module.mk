# tools/rtcdm-attach/: the administrator's command that attaches rtcdm to a
# PVH domain created paused (POSIX sh).  Made from rtcdm-attach.in with the
# version and the path rtcdm is installed at; make install puts it in
# $(SBINDIR) (it needs root, as xl does).
SCRIPTS += $(B)/rtcdm-attach

$(B)/rtcdm-attach: tools/rtcdm-attach/rtcdm-attach.in VERSION.mk config.mk
	@mkdir -p $(@D)
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' $< >$@.tmp
	chmod 0755 $@.tmp && mv $@.tmp $@
