package io.vigil.jobs.verify;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The reliability test bed's input and oracle, run from the fat jar by {@code
 * deploy/local/reliability.sh}: {@code java -cp vigil.jar io.vigil.jobs.verify.Verify produce|check ...}.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, subcommands = {SequenceProducer.class, OutputChecker.class})
public final class Verify {

  private Verify() {}

  public static void main(String[] args) {
    System.exit(new CommandLine(new Verify()).execute(args));
  }
}
