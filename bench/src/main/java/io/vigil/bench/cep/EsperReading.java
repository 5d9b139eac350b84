package io.vigil.bench.cep;

/** A sensor reading as Esper's bean event type reads it (getters). Immutable. */
public final class EsperReading {
  private final String eventId;
  private final String deviceId;
  private final long eventTime;
  private final double temperature;

  public EsperReading(String eventId, String deviceId, long eventTime, double temperature) {
    this.eventId = eventId;
    this.deviceId = deviceId;
    this.eventTime = eventTime;
    this.temperature = temperature;
  }

  public String getEventId() {
    return eventId;
  }

  public String getDeviceId() {
    return deviceId;
  }

  public long getEventTime() {
    return eventTime;
  }

  public double getTemperature() {
    return temperature;
  }
}
