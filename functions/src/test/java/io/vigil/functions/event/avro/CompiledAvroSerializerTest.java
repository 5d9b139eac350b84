package io.vigil.functions.event.avro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DerivedEvent;
import io.vigil.schemas.LoginAttempt;
import io.vigil.schemas.OrderEvent;
import io.vigil.schemas.OrderStatus;
import io.vigil.schemas.Payment;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.RuleSetEntry;
import io.vigil.schemas.RuleStatus;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import io.vigil.schemas.UserActivity;
import io.vigil.schemas.WindowAggregate;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.generic.PrimitivesArrays;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The compiled serializer against an independent oracle, Flink's own Avro serializer: for random
 * records of every Vigil schema, of the envelope schemas and of a schema with every Avro type,
 * what it reads back must equal, class for class, what Flink's serializer reads back.
 */
class CompiledAvroSerializerTest {

  private static final int RECORDS_PER_SCHEMA = 300;

  /**
   * Every Avro type and shape: logical types, both string flavours, recursion, wide unions. Arrays
   * of doubles are tested on their own: Flink's serializer (Avro 1.12.0) rounds them to floats.
   */
  static final Schema ALL_TYPES =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "AllTypes", "namespace": "io.vigil.test", "fields": [
                {"name": "b", "type": "boolean"},
                {"name": "i", "type": "int"},
                {"name": "l", "type": "long"},
                {"name": "f", "type": "float"},
                {"name": "d", "type": "double"},
                {"name": "s", "type": "string"},
                {"name": "js", "type": {"type": "string", "avro.java.string": "String"}},
                {"name": "by", "type": "bytes"},
                {"name": "fx", "type": {"type": "fixed", "name": "Hash", "size": 8}},
                {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
                {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
                {"name": "day", "type": {"type": "int", "logicalType": "date"}},
                {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
                {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
                {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
                  {"name": "name", "type": "string"},
                  {"name": "tags", "type": {"type": "array", "items": "string"}}]}},
                {"name": "inners", "type": {"type": "array", "items": "Inner"}},
                {"name": "ints", "type": {"type": "array", "items": "int"}},
                {"name": "longs", "type": {"type": "array", "items": "long"}},
                {"name": "floats", "type": {"type": "array", "items": "float"}},
                {"name": "flags", "type": {"type": "array", "items": "boolean"}},
                {"name": "m", "type": {"type": "map", "values": "long"}},
                {"name": "jm", "type": {"type": "map", "avro.java.string": "String",
                  "values": ["null", {"type": "string", "avro.java.string": "String"}]}},
                {"name": "opt", "type": ["null", "string", "long"]},
                {"name": "late", "type": ["string", "null"]},
                {"name": "choice", "type": ["Inner", "string", "long"]},
                {"name": "any", "type": ["null", "boolean", "int", "long", "float", "double",
                  "string", "bytes", "Inner", "Color", "Hash", {"type": "array", "items": "long"},
                  {"type": "map", "values": "int"}]},
                {"name": "next", "type": ["null", "AllTypes"]}
              ]}
              """);

  /** An envelope carrying one of several event types, as the rule engine's input does. */
  static final Schema MULTI_EVENT_ENVELOPE =
      new Schema.Parser()
          .parse(
              Envelopes.schema(SensorReading.getClassSchema())
                  .toString()
                  .replace(
                      SensorReading.getClassSchema().toString(),
                      SensorReading.getClassSchema()
                          + ", "
                          + Payment.getClassSchema()
                          + ", "
                          + OrderEvent.getClassSchema()));

  static Stream<Schema> schemas() {
    List<Schema> events =
        List.of(
            SensorReading.getClassSchema(),
            Payment.getClassSchema(),
            OrderEvent.getClassSchema(),
            UserActivity.getClassSchema(),
            LoginAttempt.getClassSchema());
    return Stream.of(
            events.stream(),
            events.stream().map(Envelopes::schema),
            Stream.of(
                WindowAggregate.getClassSchema(),
                AnomalyScore.getClassSchema(),
                Alert.getClassSchema(),
                DeadLetter.getClassSchema(),
                DerivedEvent.getClassSchema(),
                RuleCommand.getClassSchema(),
                RuleSetEntry.getClassSchema(),
                RuleStatus.getClassSchema(),
                SourceRef.getClassSchema(),
                MULTI_EVENT_ENVELOPE,
                ALL_TYPES))
        .flatMap(s -> s);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemas")
  void roundTripReadsWhatFlinksAvroSerializerReads(Schema schema) throws IOException {
    TypeSerializer<GenericRecord> flink =
        new GenericRecordAvroTypeInfo(schema).createSerializer(new SerializerConfigImpl());
    CompiledAvroSerializer compiled = new CompiledAvroSerializer(schema);
    RandomRecords random = new RandomRecords(schema.getFullName().hashCode());
    for (int n = 0; n < RECORDS_PER_SCHEMA; n++) {
      GenericRecord record = random.record(schema);
      GenericRecord expected = roundTrip(flink, record);
      GenericRecord actual = roundTrip(compiled, record);

      assertThat(actual).as("record %d", n).isEqualTo(expected);
      if (!containsMap(schema)) {
        // GenericData.compare cannot order maps, only tell them equal (as equals did above).
        assertThat(GenericData.get().compare(actual, expected, schema)).as("record %d", n).isZero();
      }
      assertSameClasses(actual, expected, schema.getName() + " record " + n);
    }
  }

  @Test
  void writesRecordsWhoseValuesHaveOtherJavaTypesThanTheReaderGives() throws IOException {
    // A generated enum, a StringBuilder and a specific record nested in a generic one.
    Schema schema = OrderEvent.getClassSchema();
    GenericRecord order = new RandomRecords(1).record(schema);
    order.put("status", OrderStatus.PAID);
    order.put("orderId", new StringBuilder("o-1"));
    GenericRecord read = roundTrip(new CompiledAvroSerializer(schema), order);
    assertThat(read.get("status")).isEqualTo(new GenericData.EnumSymbol(schema.getField("status").schema(), "PAID"));
    assertThat(read.get("orderId")).isEqualTo("o-1");

    Schema deadLetters = DeadLetter.getClassSchema();
    GenericRecord deadLetter = new RandomRecords(2).record(deadLetters);
    deadLetter.put("source", new SourceRef("t", 1, 2L, null));
    CompiledAvroSerializer compiled = new CompiledAvroSerializer(deadLetters);
    TypeSerializer<GenericRecord> flink =
        new GenericRecordAvroTypeInfo(deadLetters).createSerializer(new SerializerConfigImpl());
    GenericRecord actual = roundTrip(compiled, deadLetter);
    assertThat(actual).isEqualTo(roundTrip(flink, deadLetter));
    assertThat(actual.get("source")).isInstanceOf(GenericData.Record.class);
  }

  @Test
  void arraysOfDoublesKeepTheirValues() throws IOException {
    Schema schema =
        new Schema.Parser()
            .parse(
                """
                {"type": "record", "name": "Doubles", "fields": [
                  {"name": "values", "type": {"type": "array", "items": "double"}}]}
                """);
    GenericRecord record = new GenericData.Record(schema);
    record.put("values", List.of(0.1, -24.06873682521605, Double.MAX_VALUE, Double.NaN));
    GenericRecord read = roundTrip(new CompiledAvroSerializer(schema), record);

    assertThat(read).isEqualTo(record);
    // The class Flink's serializer reads, without its rounding to float.
    assertThat(read.get("values")).isInstanceOf(PrimitivesArrays.DoubleArray.class);
  }

  @Test
  void copyIsDeepAndEqual() {
    CompiledAvroSerializer serializer = new CompiledAvroSerializer(ALL_TYPES);
    RandomRecords random = new RandomRecords(3);
    for (int n = 0; n < 50; n++) {
      GenericRecord record = random.record(ALL_TYPES);
      GenericRecord copy = serializer.copy(record);
      assertThat(copy).isEqualTo(record).isNotSameAs(record);
      assertThat(copy.get("inner")).isEqualTo(record.get("inner")).isNotSameAs(record.get("inner"));
      assertThat(serializer.copy(record, serializer.createInstance())).isEqualTo(record);

      ((GenericRecord) copy.get("inner")).put("name", "changed in the copy");
      assertThat(((GenericRecord) record.get("inner")).get("name").toString())
          .isNotEqualTo("changed in the copy");
    }
  }

  @Test
  void copiesSerializedRecordsFromViewToView() throws IOException {
    CompiledAvroSerializer serializer = new CompiledAvroSerializer(MULTI_EVENT_ENVELOPE);
    RandomRecords random = new RandomRecords(4);
    for (int n = 0; n < 50; n++) {
      GenericRecord record = random.record(MULTI_EVENT_ENVELOPE);
      DataOutputSerializer written = new DataOutputSerializer(64);
      serializer.serialize(record, written);
      DataOutputSerializer copied = new DataOutputSerializer(64);
      serializer.copy(new DataInputDeserializer(written.getCopyOfBuffer()), copied);

      assertThat(copied.getCopyOfBuffer()).isEqualTo(written.getCopyOfBuffer());
      assertThat(serializer.deserialize(new DataInputDeserializer(copied.getCopyOfBuffer())))
          .isEqualTo(roundTrip(serializer, record));
    }
  }

  @Test
  void deserializesConsecutiveRecordsFromOneStream() throws IOException {
    CompiledAvroSerializer serializer = new CompiledAvroSerializer(ALL_TYPES);
    RandomRecords random = new RandomRecords(5);
    List<GenericRecord> records = Stream.generate(() -> random.record(ALL_TYPES)).limit(20).toList();
    DataOutputSerializer out = new DataOutputSerializer(64);
    for (GenericRecord record : records) {
      serializer.serialize(record, out);
    }
    DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
    for (GenericRecord record : records) {
      assertThat(serializer.deserialize(serializer.createInstance(), in))
          .isEqualTo(roundTrip(serializer, record));
    }
    assertThat(in.available()).isZero();
  }

  @Test
  void snapshotRestoresTheSerializerAndAcceptsOnlyTheSameSchema() throws IOException {
    Schema schema = Envelopes.schema(SensorReading.getClassSchema());
    CompiledAvroSerializer serializer = new CompiledAvroSerializer(schema);
    TypeSerializerSnapshot<GenericRecord> restored = writeAndRead(serializer.snapshotConfiguration());

    assertThat(restored.restoreSerializer()).isEqualTo(serializer);
    assertThat(serializer.snapshotConfiguration().resolveSchemaCompatibility(restored).isCompatibleAsIs())
        .isTrue();

    Schema changed =
        new Schema.Parser().parse(schema.toString().replace("\"failureMessage\"", "\"failureText\""));
    TypeSerializerSchemaCompatibility<GenericRecord> afterChange =
        new CompiledAvroSerializer(changed).snapshotConfiguration().resolveSchemaCompatibility(restored);
    assertThat(afterChange.isCompatibleAsIs()).isFalse();
    assertThat(afterChange.isIncompatible()).isTrue();

    TypeSerializerSnapshot<GenericRecord> flinks =
        new GenericRecordAvroTypeInfo(schema).createSerializer(new SerializerConfigImpl()).snapshotConfiguration();
    assertThat(serializer.snapshotConfiguration().resolveSchemaCompatibility(flinks).isIncompatible())
        .isTrue();
  }

  @Test
  void equalityFollowsTheSchema() throws Exception {
    Schema schema = Envelopes.schema(Payment.getClassSchema());
    CompiledAvroSerializer serializer = new CompiledAvroSerializer(schema);
    CompiledAvroSerializer sameSchema = new CompiledAvroSerializer(new Schema.Parser().parse(schema.toString()));
    CompiledAvroSerializer otherSchema = new CompiledAvroSerializer(Envelopes.schema(SensorReading.getClassSchema()));

    assertThat(serializer).isEqualTo(sameSchema).hasSameHashCodeAs(sameSchema).isNotEqualTo(otherSchema);
    assertThat(serializer.duplicate()).isEqualTo(serializer);
    assertThat(InstantiationUtil.clone(serializer)).isEqualTo(serializer);
    GenericRecord record = new RandomRecords(6).record(schema);
    assertThat(roundTrip(InstantiationUtil.clone(serializer), record))
        .isEqualTo(roundTrip(serializer, record));

    CompiledAvroTypeInfo type = new CompiledAvroTypeInfo(schema);
    assertThat(type)
        .isEqualTo(Envelopes.typeInfo(Payment.getClassSchema()))
        .hasSameHashCodeAs(new CompiledAvroTypeInfo(sameSchema.schema()))
        .isNotEqualTo(new CompiledAvroTypeInfo(otherSchema.schema()))
        .isNotEqualTo(new GenericRecordAvroTypeInfo(schema));
    assertThat(type.createSerializer(new SerializerConfigImpl())).isEqualTo(serializer);
    assertThat(InstantiationUtil.clone(type)).isEqualTo(type);
  }

  @Test
  void wrongValueTypesFailNamingTheField() {
    Schema schema = Envelopes.schema(SensorReading.getClassSchema());
    CompiledAvroSerializer serializer = new CompiledAvroSerializer(schema);
    RandomRecords random = new RandomRecords(7);

    GenericRecord wrongTopic = random.record(schema);
    wrongTopic.put(Envelopes.TOPIC, 42);
    assertThatThrownBy(() -> serializer.serialize(wrongTopic, new DataOutputSerializer(64)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("SensorReadingEnvelope")
        .hasMessageContaining("topic: expected string (java.lang.CharSequence), got java.lang.Integer");

    GenericRecord wrongNested = random.record(schema);
    GenericRecord event = random.record(SensorReading.getClassSchema());
    event.put("temperature", "warm");
    wrongNested.put(Envelopes.EVENT, event);
    assertThatThrownBy(() -> serializer.serialize(wrongNested, new DataOutputSerializer(64)))
        .hasMessageContaining("event.temperature: expected double");

    GenericRecord missing = random.record(schema);
    missing.put(Envelopes.PAYLOAD, null);
    assertThatThrownBy(() -> serializer.serialize(missing, new DataOutputSerializer(64)))
        .hasMessageContaining("payload: null where bytes");

    GenericRecord otherRecord = random.record(schema);
    otherRecord.put(Envelopes.EVENT, random.record(Payment.getClassSchema()));
    assertThatThrownBy(() -> serializer.serialize(otherRecord, new DataOutputSerializer(64)))
        .hasMessageContaining("event: expected record io.vigil.schemas.SensorReading")
        .hasMessageContaining("io.vigil.schemas.Payment");

    GenericRecord unknownSymbol = random.record(SensorReading.getClassSchema());
    unknownSymbol.put("status", OrderStatus.PAID);
    assertThatThrownBy(
            () -> new CompiledAvroSerializer(SensorReading.getClassSchema())
                .serialize(unknownSymbol, new DataOutputSerializer(64)))
        .hasMessageContaining("status: 'PAID' is not a symbol of enum io.vigil.schemas.DeviceStatus");

    GenericRecord unresolvable = new RandomRecords(8).record(ALL_TYPES);
    unresolvable.put("choice", 1.5);
    assertThatThrownBy(
            () -> new CompiledAvroSerializer(ALL_TYPES).serialize(unresolvable, new DataOutputSerializer(64)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("choice: ")
        .hasMessageContaining("1.5");
  }

  @Test
  void typeInfoNeverFallsBackToKryo() {
    SerializerConfigImpl config = new SerializerConfigImpl();
    config.setGenericTypes(false);
    assertThat(Envelopes.typeInfo(SensorReading.getClassSchema()).createSerializer(config))
        .isInstanceOf(CompiledAvroSerializer.class);
  }

  private static GenericRecord roundTrip(TypeSerializer<GenericRecord> serializer, GenericRecord record)
      throws IOException {
    DataOutputSerializer out = new DataOutputSerializer(64);
    serializer.serialize(record, out);
    DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
    GenericRecord read = serializer.deserialize(in);
    assertThat(in.available()).as("bytes left after reading").isZero();
    return read;
  }

  private static TypeSerializerSnapshot<GenericRecord> writeAndRead(TypeSerializerSnapshot<GenericRecord> snapshot)
      throws IOException {
    DataOutputSerializer out = new DataOutputSerializer(64);
    TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
    return TypeSerializerSnapshot.readVersionedSnapshot(
        new DataInputDeserializer(out.getCopyOfBuffer()), CompiledAvroSerializerTest.class.getClassLoader());
  }

  private static boolean containsMap(Schema schema) {
    return schema.toString().contains("\"map\"");
  }

  /** Walks both values together and requires the same Java class at every node. */
  private static void assertSameClasses(Object actual, Object expected, String path) {
    if (expected == null) {
      assertThat(actual).as(path).isNull();
      return;
    }
    assertThat(actual).as(path).isNotNull();
    assertThat(actual.getClass()).as(path).isEqualTo(expected.getClass());
    if (expected instanceof IndexedRecord record) {
      for (Schema.Field field : record.getSchema().getFields()) {
        assertSameClasses(
            ((IndexedRecord) actual).get(field.pos()), record.get(field.pos()), path + "." + field.name());
      }
    } else if (expected instanceof Collection<?> items) {
      Iterator<?> actualItems = ((Collection<?>) actual).iterator();
      for (Object item : items) {
        assertSameClasses(actualItems.next(), item, path + "[]");
      }
    } else if (expected instanceof Map<?, ?> map) {
      Map<?, ?> actualMap = (Map<?, ?>) actual;
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        Object actualKey =
            actualMap.keySet().stream().filter(entry.getKey()::equals).findFirst().orElseThrow();
        assertSameClasses(actualKey, entry.getKey(), path + " key");
        assertSameClasses(actualMap.get(actualKey), entry.getValue(), path + "[" + entry.getKey() + "]");
      }
    } else if (expected instanceof ByteBuffer buffer) {
      assertThat(((ByteBuffer) actual).position()).as(path).isEqualTo(buffer.position());
    }
  }
}
