/* libFuzzer target: the xl save image walker.  Never crashes, reads only
 * inside the input, and a successful walk dumps without trouble. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saverestore/sr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sr_reader r;
	struct sr_mem_source m;
	struct sr_xl_info *info = malloc(sizeof(*info));
	char err[SR_ERR_MAX];
	if (!info)
		return 0;
	sr_reader_mem(&r, &m, data, size);
	err[0] = 0;
	if (sr_walk_xl(&r, info, err, sizeof(err)) != 0) {
		if (strncmp(err, "xl image at byte ", 17) != 0)
			abort(); /* every refusal names the byte */
	} else {
		if (m.pos > size)
			abort();
		if (info->emulator_kind == SR_EMU_INVALID && strncmp(info->emu_error, "record ", 7))
			abort();
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (f) {
			sr_dump_xl_text(f, info);
			fclose(f);
		}
		free(text);
		free(sr_dump_xl_json(info));
	}
	free(info);
	return 0;
}
