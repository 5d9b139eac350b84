package io.vigil.functions.anomaly;

import java.util.List;

/** The detectors a spec or the {@code nab} command can name, with their default parameters. */
public final class Detectors {

  /** Every detector name, cheapest first. */
  public static final List<String> NAMES =
      List.of(
          EwmaDetector.NAME,
          RobustZDetector.NAME,
          LikelihoodDetector.NAME,
          DiscordDetector.NAME,
          DiscordDetector.NAME_V2,
          DiscordDetector.NAME_V3);

  /** The detector used when a spec names none. */
  public static final String DEFAULT = DiscordDetector.NAME_V3;

  private Detectors() {}

  /**
   * A detector with its default parameters.
   *
   * @throws IllegalArgumentException for an unknown name (the message lists the known ones)
   */
  public static AnomalyDetector<?> create(String name) {
    return switch (name) {
      case EwmaDetector.NAME -> new EwmaDetector();
      case RobustZDetector.NAME -> new RobustZDetector();
      case LikelihoodDetector.NAME -> new LikelihoodDetector();
      case DiscordDetector.NAME -> new DiscordDetector(DiscordDetector.Settings.DISCORD);
      case DiscordDetector.NAME_V2 -> new DiscordDetector(DiscordDetector.Settings.DISCORD_V2);
      case DiscordDetector.NAME_V3 -> new DiscordDetector(DiscordDetector.Settings.DISCORD_V3);
      default ->
          throw new IllegalArgumentException(
              "unknown detector '" + name + "'; known: " + String.join(", ", NAMES));
    };
  }
}
