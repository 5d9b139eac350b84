package io.vigil.bench.pipeline;

/**
 * A sensor reading as the hand-written job carries it: a Flink POJO of the fields the job uses
 * (Flink's POJO serializer, no Kryo). {@code failure} is set, and the rest unset, for a record
 * that did not decode into a valid event.
 */
public class Reading {
  public String eventId;
  public String deviceId;
  public String site;
  public long eventTime;
  public double temperature;
  public long position;
  public String failure;

  public Reading() {}
}
