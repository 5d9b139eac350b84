package io.vigil.jobs.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a job spec YAML file into a {@link JobSpec}, failing on unknown fields and malformed YAML
 * with errors that name the file and line, and remembering where every node was so that later,
 * semantic checks ({@link SpecCompiler}) can point at lines too.
 */
public final class SpecLoader {

  private static final YAMLMapper MAPPER =
      YAMLMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /** A parsed spec and the line of each node, by path ({@code aggregations[0].window.size}). */
  public record Loaded(String file, JobSpec spec, Map<String, Integer> lines) {

    /** The line of {@code path}, or of its nearest ancestor that has one. */
    public int lineOf(String path) {
      String p = path;
      while (true) {
        Integer line = lines.get(p);
        if (line != null) {
          return line;
        }
        int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
        if (cut <= 0) {
          return lines.getOrDefault("", 1);
        }
        p = p.substring(0, cut);
      }
    }

    public SpecError error(String path, String message) {
      return new SpecError(file, lineOf(path), path, message);
    }
  }

  private SpecLoader() {}

  public static Loaded load(Path file) throws SpecException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SpecException(
          List.of(new SpecError(file.toString(), 0, "", "cannot read spec: " + e.getMessage())));
    }
    return parse(file.toString(), text);
  }

  public static Loaded parse(String file, String text) throws SpecException {
    Map<String, Integer> lines;
    try {
      lines = lines(text);
    } catch (JsonProcessingException e) {
      throw new SpecException(
          List.of(new SpecError(file, line(e.getLocation()), "", "not valid YAML: " + e.getOriginalMessage())));
    }
    try {
      JobSpec spec = MAPPER.readValue(text, JobSpec.class);
      if (spec == null) {
        throw new SpecException(List.of(new SpecError(file, 1, "", "the spec is empty")));
      }
      return new Loaded(file, spec, lines);
    } catch (JsonMappingException e) {
      // The parser's location is wherever it stopped reading, often a few lines on; the node's own
      // line, when it has one, is where the user has to look.
      String path = path(e.getPath());
      int line = lines.getOrDefault(path, line(e.getLocation()));
      throw new SpecException(List.of(new SpecError(file, line, path, describe(e))));
    } catch (JsonProcessingException e) {
      throw new SpecException(
          List.of(new SpecError(file, line(e.getLocation()), "", "not valid YAML: " + e.getOriginalMessage())));
    }
  }

  private static String describe(JsonMappingException e) {
    if (e instanceof UnrecognizedPropertyException u) {
      return "unknown field '" + u.getPropertyName() + "'; known fields: " + u.getKnownPropertyIds();
    }
    if (e instanceof InvalidTypeIdException t) {
      return "unknown kind '" + t.getTypeId() + "'; expected one of: kafka, file, console";
    }
    String message = e.getOriginalMessage();
    int detail = message.indexOf(" (for ");
    return "wrong value: " + (detail > 0 ? message.substring(0, detail) : message);
  }

  private static int line(JsonLocation location) {
    return location == null ? 0 : location.getLineNr();
  }

  private static String path(List<JsonMappingException.Reference> references) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference ref : references) {
      if (ref.getFieldName() != null) {
        if (path.length() > 0) {
          path.append('.');
        }
        path.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  /** Walks the YAML tokens once and records the line where each path first appears. */
  private static Map<String, Integer> lines(String text) throws JsonProcessingException {
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser parser = new YAMLFactory().createParser(text)) {
      while (parser.nextToken() != null) {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
          continue;
        }
        String pointer = parser.getParsingContext().pathAsPointer().toString();
        lines.putIfAbsent(toPath(pointer), parser.currentTokenLocation().getLineNr());
      }
    } catch (JsonProcessingException e) {
      throw e;
    } catch (IOException e) {
      throw new IllegalStateException("reading from a string cannot fail", e);
    }
    return lines;
  }

  /** "/aggregations/0/window/size" to "aggregations[0].window.size". */
  static String toPath(String pointer) {
    StringBuilder path = new StringBuilder();
    for (String part : pointer.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      String name = part.replace("~1", "/").replace("~0", "~");
      if (name.chars().allMatch(Character::isDigit)) {
        path.append('[').append(name).append(']');
      } else {
        if (path.length() > 0) {
          path.append('.');
        }
        path.append(name);
      }
    }
    return path.toString();
  }
}
