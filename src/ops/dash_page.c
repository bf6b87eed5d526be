/*
 * dash_page: web/dashboard.html compiled into the binary, so the page needs
 * no install path and no CDN. The assembler includes the file byte for byte
 * (.incbin); EARSHOT_WEB_DIR is the source tree's web/ (CMakeLists.txt also
 * makes this object depend on the file, so an edit of the page rebuilds it).
 */
#include <stddef.h>

#include "ops/dash.h"

#ifndef EARSHOT_WEB_DIR
#error "EARSHOT_WEB_DIR must name the web/ directory (set in CMakeLists.txt)"
#endif

__asm__(".section .rodata\n"
        ".global earshot_dash_html\n"
        ".type earshot_dash_html, @object\n"
        ".balign 16\n"
        "earshot_dash_html:\n"
        ".incbin \"" EARSHOT_WEB_DIR "/dashboard.html\"\n"
        ".global earshot_dash_html_end\n"
        "earshot_dash_html_end:\n"
        ".byte 0\n"
        ".previous\n");

extern const char earshot_dash_html[], earshot_dash_html_end[];

const char *dash_page(size_t *len)
{
    *len = (size_t)(earshot_dash_html_end - earshot_dash_html);
    return earshot_dash_html;
}
