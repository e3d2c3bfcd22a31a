# Thin wrapper over CMake. The two commands of the README:
#   make run    install missing packages, Release build, start build/tessera
#   make test   install missing packages (+ test ones), ASan/UBSan Debug build, ctest
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: run build test test-build bench load fuzz clean deps deps-test

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
	cmake --build build -j $(JOBS)

run: build
	./build/tessera $(ARGS)

test-build: deps-test
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTSR_SANITIZE=ON -DTSR_WERROR=ON
	cmake --build build-asan -j $(JOBS)

test: test-build
	@if [ -f tests/e2e/package.json ]; then scripts/e2e-setup.sh; fi
	cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	@mkdir -p bench/results
	@set -e; for b in build/bench/bench_*; do [ -x "$$b" ] || continue; echo "== $$b"; "$$b" bench/results; done

# The capacity scenarios (tessera-load against a server pinned to one core): a few
# minutes; tables in bench/results/load_*.csv, plot in bench/results/load_rooms.png.
load: build
	@scripts/deps.sh load
	bench/load.sh $(SCENARIOS)

fuzz: deps-test
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DTSR_FUZZ=ON -DTSR_SANITIZE=ON
	cmake --build build-fuzz -j $(JOBS)
	@set -e; for f in build-fuzz/tests/fuzz/fuzz_*; do [ -x "$$f" ] || continue; \
	  name=$$(basename $$f); mkdir -p build-fuzz/corpus/$$name build-fuzz/artifacts/$$name; \
	  seeds=; [ -d tests/fuzz/corpus/$$name ] && seeds=tests/fuzz/corpus/$$name; \
	  echo "== $$name"; $$f -max_total_time=$${FUZZ_SECONDS:-60} -artifact_prefix=build-fuzz/artifacts/$$name/ \
	    build-fuzz/corpus/$$name $$seeds; done

clean:
	rm -rf build build-asan build-fuzz
