# The two commands of the README, and a few more. CMake does the building;
# this file only picks configurations and installs what is missing.
#   make test    every test in three builds: plain -O2, ASan+UBSan, TSan
#   make demo    trove's demo: a real corpus indexed and searched
#   make build   the plain build only;  make bench  the benchmark lines
#   make fuzz    every libFuzzer target for FUZZ_SECONDS each, or FUZZ_RUNS execs when
#                given, whichever comes first (clang, build/fuzz)
#   make faults  the fault and race tests of the trove binary, long (scripts/faults.sh)
#   make install PREFIX=/usr/local [DESTDIR=]  trove, its model, man pages and
#                shell completion, and sluice's header, libraries, sluice.pc
#                and CMake package (build/release, which takes CFLAGS when
#                first configured)
# The builds of test, build, bench and demo treat warnings as errors (WERROR,
# as CI does); install's does not, so a newer compiler cannot stop it.
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30
FUZZ_RUNS ?=
BUILD := build
PREFIX ?= /usr/local

.PHONY: all deps build test test-plain test-asan test-tsan fuzz faults demo bench install clean

all: build

deps:
	@scripts/deps.sh
	@scripts/fetch-model.sh >/dev/null

$(BUILD)/%/CMakeCache.txt:
	cmake -S . -B $(BUILD)/$* -DSANITIZE=$* -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWERROR=ON >/dev/null

build: deps $(BUILD)/plain/CMakeCache.txt
	cmake --build $(BUILD)/plain -j $(JOBS)

CONFIGS := plain asan tsan

# A static pattern rule: make applies no implicit rule to a .PHONY target.
$(CONFIGS:%=test-%): test-%: deps $(BUILD)/%/CMakeCache.txt
	cmake --build $(BUILD)/$* -j $(JOBS)
	cd $(BUILD)/$* && ctest --output-on-failure -j $(JOBS) --timeout 600

test: test-plain test-asan test-tsan

fuzz: deps
	JOBS=$(JOBS) FUZZ_RUNS=$(FUZZ_RUNS) scripts/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

faults: build
	scripts/faults.sh $(BUILD)/plain

bench: build
	@scripts/bench.sh $(BUILD)/plain

demo: deps build
	@scripts/deps.sh demo
	@scripts/demo.sh $(BUILD)/plain

# Only what is installed is built; the prefix is given at every run, so a
# second install elsewhere needs no clean.
install: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD)/release -j $(JOBS) --target trove sluice sluice_shared
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)/release

clean:
	rm -rf $(BUILD)
