# The two commands of the README, and a few more. CMake does the building;
# this file only picks configurations and installs what is missing.
#   make test    every test in three builds: plain -O2, ASan+UBSan, TSan
#   make demo    the benchmarks and examples (later: trove's real demo)
#   make build   the plain build only;  make bench  the benchmark lines
#   make fuzz    every libFuzzer target for FUZZ_SECONDS each, or FUZZ_RUNS execs when
#                given, whichever comes first (clang, build/fuzz)
#   make faults  the fault and race tests of the trove binary, long (scripts/faults.sh)
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30
FUZZ_RUNS ?=
BUILD := build

.PHONY: all deps build test test-plain test-asan test-tsan fuzz faults demo bench clean

all: build

deps:
	@scripts/deps.sh
	@scripts/fetch-model.sh >/dev/null

$(BUILD)/%/CMakeCache.txt:
	cmake -S . -B $(BUILD)/$* -DSANITIZE=$* -DCMAKE_BUILD_TYPE=Release >/dev/null

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

clean:
	rm -rf $(BUILD)
