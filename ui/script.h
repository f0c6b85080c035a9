/* script.h - script.c: script mode, the test driver (for console.c). */
#ifndef MW_UI_SCRIPT_H
#define MW_UI_SCRIPT_H

#include <stdint.h>
#include <stdio.h>

#include "ui.h"

/* Opens the script FILE: 0, or -1 with the reason. */
int script_open(struct ui_ctx *ctx, const char *path, mw_err *e);
void script_close(void);
/* Where script errors go while fd 2 goes to the console log (NULL: stderr). */
void script_set_err(FILE *err);
/* 1 when a script command failed (exit status 2). */
int script_failed(void);
/* Runs commands until one waits (sleep, wait-idle) or the script ends
 * (ctx->quit); a no-op while waiting. */
void script_step(struct ui_ctx *ctx);
/* The poll timeout in script mode, given the loop's own t (-1: none). */
int script_timeout(int t);
/* After each poll: ends a sleep that is over, and a wait-idle once the
 * console is idle (busy: worker threads still running) or gave up. */
void script_after_poll(struct ui_ctx *ctx, int64_t now, int busy);

#endif
