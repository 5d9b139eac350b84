package io.vigil.jobs.spec;

/**
 * One problem in a spec file: where (file, line, path inside the document) and what.
 *
 * @param line 1-based line, or 0 when the problem has no single place (for example a missing file)
 * @param path the JSON-pointer-like path of the offending node, such as {@code aggregations[1].window.size}
 */
public record SpecError(String file, int line, String path, String message) {

  @Override
  public String toString() {
    String where = line > 0 ? file + ":" + line : file;
    return path.isEmpty() ? where + ": " + message : where + ": " + path + ": " + message;
  }
}
