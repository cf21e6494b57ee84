# rtcdm — top-level, non-recursive Makefile.
# Each directory declares its sources in its own module.mk; this file holds
# the rules.  Two build trees: build/ (normal) and build/san/ (ASan+UBSan).

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

# Run ./configure (with defaults) when it has not been run yet, and again
# (with the options it was given) when configure or VERSION.mk changes.
config.mk config.h &: configure VERSION.mk
	./configure $(CONFIGURE_ARGS)
include config.mk
# The version's one source; configure puts it in config.h (RTCDM_VERSION).
include VERSION.mk

BUILD ?= build
B := $(BUILD)
S := $(BUILD)/san
F := $(BUILD)/fuzz

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wold-style-definition -Wvla
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) -I. $(JSON_CFLAGS) $(XEN_CFLAGS) $(CUNIT_CFLAGS)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ifeq ($(SANITIZERS),yes)
OPT_CFLAGS := -O1 $(SAN)
OPT_LDFLAGS := $(SAN)
else
OPT_CFLAGS := -O2
OPT_LDFLAGS :=
endif
ALL_CFLAGS := $(BASE_CFLAGS) $(OPT_CFLAGS) $(CPPFLAGS) $(CFLAGS)
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN) $(CPPFLAGS) $(CFLAGS)
LINK_LIBS := -Wl,--as-needed $(JSON_LIBS) $(XEN_LIBS) -lm

# Filled in by the module.mk files.
LIB_SRCS :=
PROGRAMS :=
SCRIPTS :=
MAN8 :=
MAN1 :=
include rtc/module.mk base/module.mk saverestore/module.mk toolstack/module.mk platform/module.mk \
        dm/module.mk tools/rtcdm-ctx/module.mk tools/rtcdm-attach/module.mk tests/module.mk docs/module.mk

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(S)/%.o)

# ---- normal tree ------------------------------------------------------------
$(B)/%.o: %.c config.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/librtcdm.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# ---- sanitizer tree -----------------------------------------------------------
$(S)/%.o: %.c config.h
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

$(S)/librtcdm.a: $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# Programs: NAME_SRCS lists the objects of program NAME besides the library.
define program_rules
$(B)/$(1): $$($(1)_SRCS:%.c=$(B)/%.o) $(B)/librtcdm.a
	$$(CC) $$(ALL_CFLAGS) $$(OPT_LDFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LINK_LIBS)
$(S)/$(1): $$($(1)_SRCS:%.c=$(S)/%.o) $(S)/librtcdm.a
	$$(CC) $$(SAN_CFLAGS) $$(SAN) $$(LDFLAGS) -o $$@ $$^ $$(LINK_LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rules,$(p))))

all: $(addprefix $(B)/,$(PROGRAMS)) $(SCRIPTS) $(MAN8) $(MAN1)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- install -----------------------------------------------------------------
# The state directory is created 0700, as rtcdm itself creates it when missing.
install: all
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR)
	install -m 0755 $(B)/rtcdm $(DESTDIR)$(LIBEXECDIR)/rtcdm
	install -m 0755 $(B)/rtcdm-ctx $(DESTDIR)$(BINDIR)/rtcdm-ctx
	install -m 0755 $(B)/rtcdm-attach $(DESTDIR)$(SBINDIR)/rtcdm-attach
	$(if $(MAN8),install -d $(DESTDIR)$(MANDIR)/man8 && install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	$(if $(MAN1),install -d $(DESTDIR)$(MANDIR)/man1 && install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	install -d -m 0700 $(DESTDIR)$(STATEDIR)

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -f config.mk config.h

.PHONY: all install clean distclean
include debian/module.mk
