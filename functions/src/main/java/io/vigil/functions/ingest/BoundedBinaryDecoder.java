package io.vigil.functions.ingest;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.InvalidNumberEncodingException;
import org.apache.avro.SystemLimitException;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * An Avro binary {@link Decoder} over one byte range of an array that never allocates more than
 * the range holds: a string or bytes length prefix pointing past the end fails with {@link
 * EOFException} before any buffer is allocated, so a hostile record cannot make a reader allocate
 * the length it claims. Reading past the end fails the same way.
 *
 * <p>Numbers, lengths and block counts are decoded as Avro's own {@code BinaryDecoder} decodes them,
 * with the same errors for malformed data (invalid varints, negative lengths, Avro's {@link
 * SystemLimitException} limits), so a record fails with the same message as before. {@link
 * #remaining()} tells how many bytes follow the datum read so far, which proves, after a read, that
 * the range held exactly one datum.
 *
 * <p>Reusable: {@link #configure} re-targets it. Not thread-safe.
 */
final class BoundedBinaryDecoder extends Decoder {

  private byte[] buf = new byte[0];
  private int pos;
  private int limit;
  /** Items of the collections read so far, bounded by Avro's collection limit as Avro does. */
  private long collectionCount;

  /** Reads {@code bytes} from {@code offset} to the end of the array. */
  BoundedBinaryDecoder configure(byte[] bytes, int offset) {
    this.buf = bytes;
    this.pos = offset;
    this.limit = bytes.length;
    this.collectionCount = 0;
    return this;
  }

  /** Bytes after the current position. */
  int remaining() {
    return limit - pos;
  }

  @Override
  public void readNull() {}

  @Override
  public boolean readBoolean() throws IOException {
    if (pos >= limit) {
      throw new EOFException();
    }
    return buf[pos++] == 1;
  }

  @Override
  public int readInt() throws IOException {
    int n = 0;
    for (int shift = 0; shift < 32; shift += 7) {
      if (pos >= limit) {
        throw new EOFException();
      }
      int b = buf[pos++] & 0xFF;
      n |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return (n >>> 1) ^ -(n & 1);
      }
    }
    throw new InvalidNumberEncodingException("Invalid int encoding");
  }

  @Override
  public long readLong() throws IOException {
    long n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= limit) {
        throw new EOFException();
      }
      long b = buf[pos++] & 0xFF;
      n |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return (n >>> 1) ^ -(n & 1);
      }
    }
    throw new InvalidNumberEncodingException("Invalid long encoding");
  }

  @Override
  public float readFloat() throws IOException {
    require(4);
    int bits =
        (buf[pos] & 0xFF)
            | (buf[pos + 1] & 0xFF) << 8
            | (buf[pos + 2] & 0xFF) << 16
            | (buf[pos + 3] & 0xFF) << 24;
    pos += 4;
    return Float.intBitsToFloat(bits);
  }

  @Override
  public double readDouble() throws IOException {
    require(8);
    long low =
        (buf[pos] & 0xFF)
            | (buf[pos + 1] & 0xFF) << 8
            | (buf[pos + 2] & 0xFF) << 16
            | (long) (buf[pos + 3] & 0xFF) << 24;
    long high =
        (buf[pos + 4] & 0xFF)
            | (buf[pos + 5] & 0xFF) << 8
            | (buf[pos + 6] & 0xFF) << 16
            | (long) (buf[pos + 7] & 0xFF) << 24;
    pos += 8;
    return Double.longBitsToDouble(low | high << 32);
  }

  /** Reads the string's bytes into {@code old} (reused when given); does not check UTF-8. */
  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    int length = SystemLimitException.checkMaxStringLength(readLong());
    require(length);
    Utf8 result = old != null ? old : new Utf8();
    result.setByteLength(length);
    System.arraycopy(buf, pos, result.getBytes(), 0, length);
    pos += length;
    return result;
  }

  @Override
  public String readString() throws IOException {
    return readString(null).toString();
  }

  @Override
  public void skipString() throws IOException {
    skip(readLong());
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    int length = SystemLimitException.checkMaxBytesLength(readLong());
    require(length);
    ByteBuffer result;
    if (old != null && length <= old.capacity()) {
      result = old;
      result.clear();
    } else {
      result = ByteBuffer.allocate(length);
    }
    System.arraycopy(buf, pos, result.array(), result.position(), length);
    pos += length;
    result.limit(length);
    return result;
  }

  @Override
  public void skipBytes() throws IOException {
    skip(readLong());
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    require(length);
    System.arraycopy(buf, pos, bytes, start, length);
    pos += length;
  }

  @Override
  public void skipFixed(int length) throws IOException {
    skip(length);
  }

  @Override
  public int readEnum() throws IOException {
    return readInt();
  }

  @Override
  public long readArrayStart() throws IOException {
    collectionCount = SystemLimitException.checkMaxCollectionLength(0L, readItemCount());
    return collectionCount;
  }

  @Override
  public long arrayNext() throws IOException {
    long length = readItemCount();
    collectionCount = SystemLimitException.checkMaxCollectionLength(collectionCount, length);
    return length;
  }

  @Override
  public long skipArray() throws IOException {
    return skipItems();
  }

  /** Maps are encoded as arrays are (blocks of items), so they share the array's reads and limits. */
  @Override
  public long readMapStart() throws IOException {
    return readArrayStart();
  }

  @Override
  public long mapNext() throws IOException {
    return arrayNext();
  }

  @Override
  public long skipMap() throws IOException {
    return skipItems();
  }

  @Override
  public int readIndex() throws IOException {
    return readInt();
  }

  /** A block's item count; a negative count is followed by the block's byte size, ignored here. */
  private long readItemCount() throws IOException {
    long count = readLong();
    if (count < 0L) {
      readLong();
      count = -count;
    }
    return count;
  }

  /** Skips whole blocks that state their byte size; returns the count of a block that does not. */
  private long skipItems() throws IOException {
    long count = readLong();
    while (count < 0L) {
      skip(readLong());
      count = readLong();
    }
    return count;
  }

  /**
   * Skips {@code length} bytes; a negative length skips nothing, as in Avro's decoders (the datum
   * then fails or passes on the bytes that follow).
   */
  private void skip(long length) throws IOException {
    if (length > 0) {
      require(length);
      pos += (int) length;
    }
  }

  private void require(long length) throws EOFException {
    if (length > limit - pos) {
      throw new EOFException();
    }
  }
}
