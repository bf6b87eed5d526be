/*
 * `earshot test-rules`: only the rule files' examples (src/ruletest/), with
 * enough detail to fix a failing one: the example, the rules that fired, the
 * rule that should have and did not, and the brands the post mentions (the
 * usual reason a "when.brands" rule stays quiet).
 *
 * check-rules prints the same failures as one FILE:LINE:COL line each and
 * exits 2 with everything else it checks; this mode is for the edit-test
 * loop and exits 1 on failing examples, so a script can tell "the examples
 * fail" (1) from "the rules do not load" (2).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "rules/rules.h"
#include "ruletest/ruletest.h"

static void test_rules_usage(FILE *out)
{
    fprintf(out,
        "usage: earshot test-rules [--rules DIR] [--verbose] [DIR]\n"
        "\n"
        "Runs the \"examples\" of every rule in a rules directory (default: %s)\n"
        "through the classifier with the whole rule set, and prints each example\n"
        "that goes the wrong way: a \"match\" example that does not make its rule\n"
        "fire, or a \"no_match\" example that does. Ends with\n"
        "\"examples: N passed, M failed\".\n"
        "\n"
        "  --rules DIR   rules directory (or give DIR as the argument)\n"
        "  --verbose     print passing examples too\n"
        "\n"
        "Exit status: 0 when every example passes, 1 when one fails, 2 for invalid\n"
        "rules or usage.\n",
        cli_default_rules_dir());
}

static void test_rules_report(const ruleset *rs, const ruletest_result *res, void *opaque)
{
    const rules_example *ex = res->ex;
    const char *id = ruleset_rule(rs, ex->rule)->id;

    (void)opaque;
    if (res->verdict == RULETEST_PASS) {
        printf("ok   ");
        ruletest_print_line(stdout, rs, res);
        return;
    }
    printf("FAIL %s:%d:%d: rule '%s' ", ex->file, ex->line, ex->col, id);
    if (res->verdict == RULETEST_REJECTED || res->verdict == RULETEST_ERROR)
        printf("example could not be classified: %s\n", res->reason);
    else
        printf("%s\n", ex->expect_match ? "should match" : "should not match");
    printf("  example:      ");
    ruletest_print_example(stdout, ex);
    putchar('\n');
    if (!res->matches)
        return;
    printf("  fired:        ");
    ruletest_print_fired(stdout, rs, res->matches, false);
    putchar('\n');
    if (res->verdict == RULETEST_MISSED)
        printf("  did not fire: %s\n", id);
    printf("  brands:       ");
    ruletest_print_fired(stdout, rs, res->matches, true);
    putchar('\n');
}

int cmd_test_rules(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int opt, verbose = 0, rc;
    char err[1024];
    ruleset *rs;
    ruletest_summary sum;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "r:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': dir = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': test_rules_usage(stdout); return 0;
        default: test_rules_usage(stderr); return 2;
        }
    }
    if (argc - optind > 1 || (dir && optind < argc)) {
        fprintf(stderr, "earshot test-rules: give one rules directory, either as "
                "--rules DIR or as DIR\n");
        return 2;
    }
    if (optind < argc)
        dir = argv[optind];
    if (!(dir = cli_rules_dir(dir, NULL, err, sizeof(err)))) {
        fprintf(stderr, "earshot test-rules: %s\n", err);
        return 2;
    }

    if (!(rs = ruleset_load(dir, err, sizeof(err)))) {
        fprintf(stderr, "earshot test-rules: %s\n", err);
        return 2;
    }
    if (ruletest_run(rs, verbose, test_rules_report, NULL, &sum, err, sizeof(err)) != 0) {
        fflush(stdout);
        fprintf(stderr, "earshot test-rules: %s\n", err);
        ruleset_unref(rs);
        return 1;
    }
    printf("examples: %zu passed, %zu failed\n", sum.passed, sum.failed);
    rc = sum.failed ? 1 : 0;
    ruleset_unref(rs);
    return rc;
}
