package io.vigil.functions.ingest;

import io.vigil.schemas.DeadLetterReason;

/**
 * Why one record cannot become a valid event. Thrown inside the decoder and turned into a failed
 * envelope there; never leaves {@link EventDecoder}. Carries no stack trace: it describes bad input,
 * not a bug.
 */
final class Rejection extends Exception {

  private static final long serialVersionUID = 1L;

  private final DeadLetterReason reason;

  Rejection(DeadLetterReason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  DeadLetterReason reason() {
    return reason;
  }
}
