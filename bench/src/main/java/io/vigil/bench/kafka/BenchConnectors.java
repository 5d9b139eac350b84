package io.vigil.bench.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vigil.bench.CountingSink;
import io.vigil.bench.RunClock;
import io.vigil.bench.pipeline.Reading;
import io.vigil.bench.pipeline.ReadingConverter;
import io.vigil.functions.event.Envelopes;
import io.vigil.functions.ingest.DecodeSettings;
import io.vigil.functions.ingest.EnvelopeDeserializationSchema;
import io.vigil.functions.ingest.EventDecoder;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.schemas.SourceRef;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The Kafka sources and sinks of the Kafka table's rows.
 *
 * <p>Every source is the one {@code vigil run} builds for a bounded run ({@code
 * Connectors.kafkaSource(spec, true)}: the spec's topics, group and properties, from the earliest
 * offset up to the offsets that are latest at start) with its deserializer wrapped in {@link
 * StartMark}, which starts the measured interval at the first record (and can hold that record
 * back until the job's start-up rule is in place); the harness builds it here because {@code
 * Connectors} takes no deserializer. Every bench-built sink is exactly-once, like
 * the spec's Kafka outputs, with the same transaction timeout.
 */
public final class BenchConnectors {

  private BenchConnectors() {}

  /**
   * Vigil's envelopes (decode + validate in the source), as the Vigil job and the limit row read
   * them.
   *
   * @param awaitCount null, or a {@link CountingSink} name: the first record waits until that sink
   *     has counted a record (see {@link StartMark})
   */
  public static KafkaSource<GenericRecord> envelopes(CompiledSpec spec, String awaitCount) {
    return source(spec, new StartMark<>(new EnvelopeDeserializationSchema(spec.decode()), awaitCount));
  }

  /** The hand-written job's readings: the same decoder, then its own POJO. */
  public static KafkaSource<Reading> readings(CompiledSpec spec) {
    return source(spec, new StartMark<>(new ReadingDeserializer(spec.decode()), null));
  }

  private static <T> KafkaSource<T> source(CompiledSpec spec, KafkaRecordDeserializationSchema<T> deserializer) {
    CompiledSpec.KafkaInput in = spec.kafka().orElseThrow();
    Properties props = new Properties();
    props.putAll(in.properties());
    return KafkaSource.<T>builder()
        .setBootstrapServers(in.bootstrapServers())
        .setTopics(in.topics())
        .setGroupId(in.groupId())
        .setProperties(props)
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setBounded(OffsetsInitializer.latest())
        .setDeserializer(deserializer)
        .build();
  }

  /** An exactly-once sink of each valid envelope's original bytes, keyed by its key: the limit row's output. */
  public static KafkaSink<GenericRecord> payloads(String bootstrapServers, String topic, Duration transactionTimeout) {
    return sink(bootstrapServers, topic, transactionTimeout, new PayloadRecords(topic));
  }

  /** An exactly-once sink of JSON (Jackson, public fields) keyed by {@code keyOf}: the hand-written job's outputs. */
  public static <T> KafkaSink<T> json(String bootstrapServers, String topic, Duration transactionTimeout, SerializableFunction<T, String> keyOf) {
    return sink(bootstrapServers, topic, transactionTimeout, new JsonRecords<>(topic, keyOf));
  }

  private static <T> KafkaSink<T> sink(String bootstrapServers, String topic, Duration transactionTimeout, KafkaRecordSerializationSchema<T> records) {
    Properties props = new Properties();
    props.setProperty("transaction.timeout.ms", Long.toString(transactionTimeout.toMillis()));
    return KafkaSink.<T>builder()
        .setBootstrapServers(bootstrapServers)
        .setKafkaProducerConfig(props)
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        // One sink per topic, and a fresh topic per run: the topic is a unique, stable prefix.
        .setTransactionalIdPrefix(topic)
        .setRecordSerializer(records)
        .build();
  }

  /**
   * A deserializer that marks the start of the measured interval ({@link RunClock#markStart}) at
   * its first record, then delegates. One flag test per record.
   *
   * <p>With {@code awaitCount}, the first record first waits (up to {@link #GATE_TIMEOUT}, then
   * goes on, and the output check will tell) until the {@link CountingSink} of that name has
   * counted a record. The Vigil row passes its rule-status sink: the engine reports the start-up
   * rule when it has it, and a rule applies only to events ahead of the engine's watermark when
   * it arrives (the in-memory source's start delay, {@link io.vigil.bench.MemorySource}, serves
   * the same end). Waiting blocks only this source's task, before the interval starts.
   */
  static final class StartMark<T> implements KafkaRecordDeserializationSchema<T> {
    static final Duration GATE_TIMEOUT = Duration.ofSeconds(60);
    private static final long serialVersionUID = 1L;
    private final KafkaRecordDeserializationSchema<T> inner;
    private final String awaitCount;
    private transient boolean started;

    StartMark(KafkaRecordDeserializationSchema<T> inner, String awaitCount) {
      this.inner = inner;
      this.awaitCount = awaitCount;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
      inner.open(context);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<T> out) throws IOException {
      if (!started) {
        started = true;
        if (awaitCount != null) {
          awaitGate();
        }
        RunClock.markStart();
      }
      inner.deserialize(record, out);
    }

    @Override
    public TypeInformation<T> getProducedType() {
      return inner.getProducedType();
    }

    private void awaitGate() throws IOException {
      long deadline = System.nanoTime() + GATE_TIMEOUT.toNanos();
      while (CountingSink.count(awaitCount) == 0 && System.nanoTime() < deadline) {
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for " + awaitCount);
        }
      }
    }
  }

  /** Vigil's decoder (as {@link EnvelopeDeserializationSchema} calls it), then {@link ReadingConverter#fromEnvelope}. */
  static final class ReadingDeserializer implements KafkaRecordDeserializationSchema<Reading> {
    private static final long serialVersionUID = 1L;
    private final EventDecoder decoder;

    ReadingDeserializer(DecodeSettings settings) {
      this.decoder = new EventDecoder(settings);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Reading> out) {
      Long timestamp = record.timestamp() >= 0 ? record.timestamp() : null;
      SourceRef source = new SourceRef(record.topic(), record.partition(), record.offset(), timestamp);
      out.collect(ReadingConverter.fromEnvelope(decoder.decode(source, record.value()), record.offset()));
    }

    @Override
    public TypeInformation<Reading> getProducedType() {
      return TypeInformation.of(Reading.class);
    }
  }

  /** A valid envelope's original bytes under its key, with the record's (event) timestamp. */
  static final class PayloadRecords implements KafkaRecordSerializationSchema<GenericRecord> {
    private static final long serialVersionUID = 1L;
    private final String topic;

    PayloadRecords(String topic) {
      this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(GenericRecord envelope, KafkaSinkContext context, Long timestamp) {
      ByteBuffer payload = Envelopes.payload(envelope);
      byte[] value = new byte[payload.remaining()];
      payload.get(value);
      return new ProducerRecord<>(topic, null, timestamp, Envelopes.key(envelope).getBytes(StandardCharsets.UTF_8), value);
    }
  }

  /** A record as JSON (Jackson, public fields), keyed by {@code keyOf}, with the record's (event) timestamp. */
  static final class JsonRecords<T> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;
    private final String topic;
    private final SerializableFunction<T, String> keyOf;
    private transient ObjectMapper mapper;

    JsonRecords(String topic, SerializableFunction<T, String> keyOf) {
      this.topic = topic;
      this.keyOf = keyOf;
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
      mapper = new ObjectMapper();
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
      try {
        return new ProducerRecord<>(topic, null, timestamp, keyOf.apply(element).getBytes(StandardCharsets.UTF_8), mapper.writeValueAsBytes(element));
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
