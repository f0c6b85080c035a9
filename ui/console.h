/* console.h - the console's entry point. Deliberately free of curses types
 * so that src/main.c can call it without including curses. */
#ifndef MW_CONSOLE_H
#define MW_CONSOLE_H

struct console_opts {
	const char *config;     /* --config FILE, or NULL for the default */
	int demo;               /* --demo: mimewatch-sim children, temp dir */
	const char *script;     /* --script FILE: deterministic script mode */
	int cols, rows;         /* script mode screen size (default 100x30) */
	int no_mouse;           /* --no-mouse: the terminal keeps the mouse */
	unsigned shard_k, shard_n;  /* --shard K/N: the console's own collector is
				       shard K of N (n 0: every integration) */
};

/* Runs the console until the user quits. Returns the exit status
 * (0, or 2 for a bad config / no usable terminal with a message on stderr). */
int console_main(const struct console_opts *o);

#endif
