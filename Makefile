# SPDX-License-Identifier: GPL-2.0-or-later
# sluice: one entry point. `make help` lists the targets.

PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= /etc/systemd/system
CONFDIR  ?= /etc/sluice
B        := build

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PKGS     := libbpf libxdp libmnl libnl-route-3.0 json-c libwebsockets libpq libcrypto
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
            -Wmissing-prototypes -Wstrict-prototypes
CFLAGS   ?= -O2 -g
DATADIR  ?= $(PREFIX)/share/sluice
CFLAGS   += -std=gnu11 $(WARN) -Iinclude -I$(B) -D_GNU_SOURCE -DSL_DATADIR='"$(DATADIR)"' \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lm -lpthread
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC  := $(sort $(wildcard lib/*.c lib/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
LIB_ASAN := $(LIB_SRC:%.c=$(B)/asan/%.o)
BPF_SRC  := $(sort $(wildcard bpf/*.bpf.c))
BPF_OBJ  := $(BPF_SRC:bpf/%.bpf.c=$(B)/bpf/%.bpf.o)
SKELS    := $(BPF_SRC:bpf/%.bpf.c=$(B)/%.skel.h)
PROGS    := $(B)/sluiced $(B)/sluicectl $(B)/sluice-controller
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
BPFT_SRC := $(sort $(wildcard tests/bpf/test_*.c))
BPFT_BIN := $(BPFT_SRC:tests/bpf/%.c=$(B)/tests/bpf/%)
TOOL_SRC := $(sort $(wildcard tools/*.c))
TOOL_BIN := $(TOOL_SRC:tools/%.c=$(B)/tools/%)

# Keep the BPF objects (make would delete them as intermediates).
.SECONDARY: $(BPF_OBJ)

.PHONY: all deps check check-unit check-net bench demo install uninstall clean help
all: $(PROGS) $(TOOL_BIN) $(B)/web/main.js

help:
	@echo "make            build build/sluiced, build/sluicectl, build/sluice-controller, the web UI and the tools"
	@echo "make deps       apt-get install what sluice needs (Debian 12, idempotent)"
	@echo "make check      all tests; ends with 'N passed, N failed'"
	@echo "make bench      the benchmarks in bench/, printing ratios"
	@echo "make demo       bring up a shaped demo topology, measure it, tear down"
	@echo "make install    binaries, man pages, systemd unit, /etc/sluice"

deps:
	./tools/deps.sh

# --- BPF: vmlinux.h from the running kernel's BTF, CO-RE objects, skeletons
$(B)/vmlinux.h:
	@mkdir -p $(B)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(B)/vmlinux.h $(wildcard bpf/*.h) $(wildcard include/sluice/*.h)
	@mkdir -p $(@D)
	$(CLANG) -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_x86 -I$(B) -Ibpf -Iinclude -c $< -o $@

$(B)/%.skel.h: $(B)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# --- libsluice
$(B)/%.o: %.c $(SKELS) $(wildcard include/sluice/*.h lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib -c $< -o $@

$(B)/asan/%.o: %.c $(SKELS) $(wildcard include/sluice/*.h lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 $(SANFLAGS) -Ilib -c $< -o $@

# the programs' objects also depend on their own directories' headers
CTL_OBJ  := $(patsubst %.c,%.o,$(wildcard ctl/*/*.c))
$(CTL_OBJ:%=$(B)/%) $(CTL_OBJ:%=$(B)/asan/%): $(wildcard ctl/*/*.h)

$(B)/libsluice.a: $(LIB_OBJ)
	ar rcs $@ $^

$(B)/libsluice-asan.a: $(LIB_ASAN)
	ar rcs $@ $^

# --- programs (one folder each under ctl/)
.SECONDEXPANSION:
$(B)/sluiced $(B)/sluicectl $(B)/sluice-controller: $$(patsubst %.c,$(B)/%.o,$$(wildcard ctl/$$(notdir $$@)/*.c)) $(B)/libsluice.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The daemon under ASan+UBSan+LSan, for the leak and robustness tests.
$(B)/asan/sluiced: $(patsubst %.c,$(B)/asan/%.o,$(wildcard ctl/sluiced/*.c)) $(B)/libsluice-asan.a
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tools/%: tools/%.c $(B)/libsluice.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# --- web UI (web/): npm packages from the lockfile, bundled by esbuild
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

$(B)/web/main.js: web/node_modules/.package-lock.json $(wildcard web/src/*)
	@mkdir -p $(@D)
	web/node_modules/.bin/esbuild web/src/main.js --bundle --minify --sourcemap \
		--target=es2020 --outdir=$(B)/web --log-level=warning
	cp web/src/index.html $(B)/web/

# --- tests: unit tests under ASan+UBSan, BPF tests against the real kernel
$(B)/tests/test_%: tests/unit/test_%.c $(B)/libsluice-asan.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 $(SANFLAGS) -Ilib -o $@ $^ $(LDLIBS) -lcmocka

# sluicectl shell's option-to-policy translation, linked into its test
# (which stubs the two sluicectl helpers it calls).
$(B)/tests/test_shell_policy: tests/unit/test_shell_policy.c $(B)/asan/ctl/sluicectl/shell_policy.o $(B)/libsluice-asan.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 $(SANFLAGS) -Ilib -Ictl/sluicectl -o $@ $^ $(LDLIBS) -lcmocka
$(B)/asan/ctl/sluicectl/shell_policy.o: $(wildcard ctl/sluicectl/*.h)

$(B)/tests/bpf/%: tests/bpf/%.c $(B)/libsluice.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib -o $@ $^ $(LDLIBS) -lcmocka

# BPF objects the tests load on purpose (a program the verifier refuses).
BPFFIX_SRC := $(sort $(wildcard tests/bpf/fixtures/*.bpf.c))
BPFFIX_OBJ := $(BPFFIX_SRC:tests/bpf/fixtures/%.bpf.c=$(B)/tests/bpf/fixtures/%.bpf.o)

$(B)/tests/bpf/fixtures/%.bpf.o: tests/bpf/fixtures/%.bpf.c $(B)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_x86 -I$(B) -Ibpf -Iinclude -c $< -o $@

$(B)/tests/bpf/test_bpf_errors: tests/bpf/test_bpf_errors.c $(B)/libsluice.a $(BPFFIX_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib -DSL_TEST_FIXTURES='"$(abspath $(B))/tests/bpf/fixtures"' \
		-o $@ tests/bpf/test_bpf_errors.c $(B)/libsluice.a $(LDLIBS) -lcmocka

check: all $(UNIT_BIN) $(BPFT_BIN) $(B)/asan/sluiced
	./tests/run.sh

check-unit: $(UNIT_BIN)
	./tests/run.sh unit

check-net: all
	./tests/run.sh net

bench: all
	./bench/run.sh

demo: all
	./tools/demo.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(PROGS) $(B)/tools/sluice-relay $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/sluiced.service > $(DESTDIR)$(UNITDIR)/sluiced.service
	test -e $(DESTDIR)$(CONFDIR)/sluiced.conf || install -m 0644 systemd/sluiced.conf $(DESTDIR)$(CONFDIR)/sluiced.conf
	install -d $(DESTDIR)$(DATADIR)/migrations $(DESTDIR)$(DATADIR)/web
	install -m 0644 db/migrations/*.sql $(DESTDIR)$(DATADIR)/migrations/
	install -m 0644 $(B)/web/index.html $(B)/web/main.js $(B)/web/main.css $(DESTDIR)$(DATADIR)/web/
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/sluice-controller.service > $(DESTDIR)$(UNITDIR)/sluice-controller.service
	test -e $(DESTDIR)$(CONFDIR)/controller.conf || install -m 0644 etc/controller.conf $(DESTDIR)$(CONFDIR)/controller.conf
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(PROGS)) sluice-relay) \
	      $(DESTDIR)$(MANDIR)/man8/sluiced.8 $(DESTDIR)$(MANDIR)/man8/sluicectl.8 \
	      $(DESTDIR)$(MANDIR)/man8/sluice-controller.8 \
	      $(DESTDIR)$(UNITDIR)/sluiced.service $(DESTDIR)$(UNITDIR)/sluice-controller.service
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf $(B)
