package io.vigil.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code vigil} command line: {@code validate} checks specs, {@code run} runs one, {@code rule}
 * changes the rules of a running one. The same
 * jar runs locally ({@code java -jar vigil.jar run ...}, a mini-cluster in this JVM) and on a Flink
 * cluster ({@code flink run vigil-cluster.jar run ...}, where the job goes to that cluster).
 */
@Command(
    name = "vigil",
    mixinStandardHelpOptions = true,
    version = "vigil 0.1.0",
    description = "Event processing on Apache Flink: validation, windowed aggregates, dead letters.",
    subcommands = {ValidateCommand.class, RunCommand.class, RuleChangeCommand.class, ProduceCommand.class, NabCommand.class})
public final class VigilCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec commandSpec;

  public static void main(String[] args) {
    int exit = new CommandLine(new VigilCli()).execute(args);
    if (exit != 0) {
      System.exit(exit);
    }
  }

  @Override
  public void run() {
    commandSpec.commandLine().usage(System.out);
  }
}
