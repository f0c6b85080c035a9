/* fuzz_main.h - without libFuzzer (-DMW_FUZZ_MAIN), a main() that runs a
 * target once on each file named on the command line, e.g. its seed corpus
 * under tests/fuzz/corpus/NAME/: gdb and valgrind on one input. Included
 * at the end of every target; one with an LLVMFuzzerInitialize defines
 * MW_FUZZ_HAS_INIT first. */
#ifdef MW_FUZZ_MAIN
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
#ifdef MW_FUZZ_HAS_INIT
	/* As libFuzzer does: the target's set-up (a locale, say) first. */
	LLVMFuzzerInitialize(&argc, &argv);
#endif
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		char *buf;
		long n;

		if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
			perror(argv[i]);
			return 2;
		}
		buf = malloc((size_t)n + 1);
		if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
			perror(argv[i]);
			return 2;
		}
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)buf, (size_t)n);
		free(buf);
		printf("ok %s\n", argv[i]);
	}
	return 0;
}
#endif
