package io.vigil.functions.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.util.Utf8;
import org.junit.jupiter.api.Test;

/**
 * {@link BoundedBinaryDecoder} reads what Avro's own binary decoder reads, fails where it fails,
 * and never allocates what a length prefix or block count claims beyond the record's bytes.
 */
class BoundedBinaryDecoderTest {

  private final Random random = new Random(20261127L);

  /** One read of a primitive, applied to both decoders. */
  private interface Read {
    Object from(Decoder in) throws IOException;
  }

  private static final List<Read> PRIMITIVE_READS =
      List.of(
          Decoder::readInt,
          Decoder::readLong,
          Decoder::readFloat,
          Decoder::readDouble,
          Decoder::readBoolean,
          Decoder::readEnum,
          Decoder::readIndex);

  @Test
  void randomBytesReadAsNumbersGiveAvrosValuesAndFailures() {
    for (int i = 0; i < 20_000; i++) {
      byte[] bytes = new byte[random.nextInt(24)];
      random.nextBytes(bytes);
      if (random.nextBoolean()) {
        // Long varints: continuation bits on all but (maybe) the last byte.
        for (int b = 0; b < bytes.length - 1; b++) {
          bytes[b] |= (byte) 0x80;
        }
      }
      BoundedBinaryDecoder bounded = new BoundedBinaryDecoder().configure(bytes, 0);
      BinaryDecoder avro = DecoderFactory.get().binaryDecoder(bytes, null);
      for (int op = 0; op < 6; op++) {
        Read read = PRIMITIVE_READS.get(random.nextInt(PRIMITIVE_READS.size()));
        Object expected = outcome(read, avro);
        Object actual = outcome(read, bounded);
        assertThat(actual).as("input %s, op %d", Arrays.toString(bytes), op).isEqualTo(expected);
        if (expected instanceof Class<?>) {
          break;
        }
      }
    }
  }

  @Test
  void stringsAndBytesReadAsAvroReadsThemAndTruncatedOnesFailWithEof() throws IOException {
    for (int i = 0; i < 500; i++) {
      String text = randomText(random.nextInt(40));
      byte[] blob = new byte[random.nextInt(40)];
      random.nextBytes(blob);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      encoder.writeString(text);
      encoder.writeBytes(blob);
      encoder.flush();
      byte[] bytes = out.toByteArray();

      BoundedBinaryDecoder in = new BoundedBinaryDecoder().configure(bytes, 0);
      assertThat(in.readString(new Utf8()).toString()).isEqualTo(text);
      assertThat(in.readBytes(null)).isEqualTo(ByteBuffer.wrap(blob));
      assertThat(in.remaining()).isZero();

      byte[] truncated = Arrays.copyOf(bytes, random.nextInt(bytes.length));
      BoundedBinaryDecoder cut = new BoundedBinaryDecoder().configure(truncated, 0);
      assertThatThrownBy(
              () -> {
                cut.readString(null);
                cut.readBytes(null);
              })
          .isInstanceOf(EOFException.class);
    }
  }

  @Test
  void lengthPrefixBeyondTheEndFailsWithEofBeforeAllocating() {
    // 1,073,741,823 (zig-zag varint), then three bytes.
    byte[] claim = {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 'a', 'b', 'c'};
    assertThatThrownBy(() -> new BoundedBinaryDecoder().configure(claim, 0).readString(null))
        .isInstanceOf(EOFException.class);
    assertThatThrownBy(() -> new BoundedBinaryDecoder().configure(claim, 0).readBytes(null))
        .isInstanceOf(EOFException.class);
    assertThatThrownBy(() -> new BoundedBinaryDecoder().configure(claim, 0).skipString())
        .isInstanceOf(EOFException.class);
  }

  @Test
  void negativeLengthFailsWithAvrosMessage() {
    byte[] minusOne = {0x01};
    assertThatThrownBy(() -> new BoundedBinaryDecoder().configure(minusOne, 0).readString(null))
        .isInstanceOf(AvroRuntimeException.class)
        .hasMessage("Malformed data. Length is negative: -1");
    assertThatThrownBy(() -> new BoundedBinaryDecoder().configure(minusOne, 0).readBytes(null))
        .isInstanceOf(AvroRuntimeException.class)
        .hasMessage("Malformed data. Length is negative: -1");
  }

  @Test
  void readsFromTheOffsetAndCountsTheBytesAfterTheDatum() throws IOException {
    byte[] bytes = {9, 9, 0x04, 'h', 'i', 7, 7};
    BoundedBinaryDecoder in = new BoundedBinaryDecoder().configure(bytes, 2);
    assertThat(in.readString(null).toString()).isEqualTo("hi");
    assertThat(in.remaining()).isEqualTo(2);
  }

  @Test
  void collectionsInBlocksWithByteSizesAreReadAndSkipped() throws IOException {
    Schema schema =
        SchemaBuilder.record("R")
            .fields()
            .name("list").type().array().items().stringType().noDefault()
            .name("map").type().map().values().longType().noDefault()
            .requiredInt("after")
            .endRecord();
    GenericRecord record = new GenericData.Record(schema);
    List<String> list = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      list.add("item-" + i);
    }
    record.put("list", list);
    record.put("map", Map.of("a", 1L, "b", 2L, "c", 3L));
    record.put("after", 42);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    // A small block size, so that the arrays are written in several blocks with byte sizes.
    BinaryEncoder encoder = new EncoderFactory().configureBlockSize(64).blockingBinaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
    encoder.flush();
    byte[] bytes = out.toByteArray();
    assertThat(bytes[0] & 1).as("the first block's count is negative: a byte size follows").isOne();

    BoundedBinaryDecoder skipped = new BoundedBinaryDecoder().configure(bytes, 0);
    GenericDatumReader.skip(schema, skipped);
    assertThat(skipped.remaining()).isZero();

    GenericRecord read =
        StrictUtf8Data.INSTANCE
            .<GenericRecord>reader(schema, schema)
            .read(null, new BoundedBinaryDecoder().configure(bytes, 0));
    assertThat(read.get("list")).isEqualTo(list);
    assertThat(read.get("map")).isEqualTo(Map.of("a", 1L, "b", 2L, "c", 3L));
    assertThat(read.get("after")).isEqualTo(42);
  }

  @Test
  void blockClaimingABillionItemsFailsOnTheMissingItemsWithoutAllocatingThem() {
    // A block count of 1,073,741,823 (zig-zag varint), then a single item.
    byte[] claim = {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 0x02};
    Schema array = SchemaBuilder.array().items().intType();
    Schema map = SchemaBuilder.map().values().intType();
    for (Schema schema : List.of(array, map)) {
      assertThatThrownBy(
              () ->
                  StrictUtf8Data.INSTANCE
                      .reader(schema, schema)
                      .read(null, new BoundedBinaryDecoder().configure(claim, 0)))
          .as(schema.getType().getName())
          .isInstanceOf(EOFException.class);
    }
  }

  /** The value read, or the class of the exception thrown. */
  private static Object outcome(Read read, Decoder in) {
    try {
      return read.from(in);
    } catch (Exception e) {
      return e.getClass();
    }
  }

  private String randomText(int length) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < length; i++) {
      text.appendCodePoint(
          switch (random.nextInt(3)) {
            case 0 -> 'a' + random.nextInt(26);
            case 1 -> 0xE0 + random.nextInt(0x700);
            default -> 0x1F600 + random.nextInt(0x40);
          });
    }
    return text.toString();
  }
}
