/* `earshot demo`: placeholder until the live view lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "earshot demo: not built yet\n");
    return 1;
}
