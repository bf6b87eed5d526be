/*
 * cli: one function per `earshot` mode, as kcat does it. main.c only picks
 * the mode; each cmd_* parses its own options and returns the process exit
 * status (0 ok, 1 runtime failure, 2 usage or configuration error). Nothing
 * below main() calls exit().
 */
#ifndef EARSHOT_CLI_H
#define EARSHOT_CLI_H

int cmd_classify(int argc, char **argv);    /* cli/cmd_classify.c */
int cmd_check_rules(int argc, char **argv); /* cli/cmd_classify.c */
int cmd_test_rules(int argc, char **argv);  /* cli/cmd_test_rules.c */
int cmd_eval(int argc, char **argv);        /* cli/cmd_eval.c */
int cmd_train(int argc, char **argv);       /* cli/cmd_train.c */
int cmd_run(int argc, char **argv);         /* cli/cmd_run.c */
int cmd_broker(int argc, char **argv);      /* cli/cmd_broker.c */
int cmd_demo(int argc, char **argv);        /* cli/cmd_demo.c */
int cmd_generate(int argc, char **argv);    /* cli/cmd_generate.c */
int cmd_watch(int argc, char **argv);       /* cli/cmd_watch.c */

#endif
