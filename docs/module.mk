# docs/: the man pages `make install` puts under $(MANDIR).
MAN8 := docs/rtcdm.8
MAN1 := docs/rtcdm-ctx.1
