package dev.switchboard.lb.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Runs the lab's system commands ({@code ip}, {@code nft}) with a timeout, and fails with the
 * command, its exit status and its output when they fail. Stateless and thread-safe.
 */
final class Commands {
  static final Duration TIMEOUT = Duration.ofSeconds(20);

  private Commands() {}

  /** Where {@code tool} is installed (on the PATH or in the usual sbin directories), or null. */
  static @Nullable Path find(String tool) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : (path + ":/usr/sbin:/sbin:/usr/bin:/bin").split(":")) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, tool);
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }

  /**
   * Runs {@code command}, writing {@code stdin} to it if not null, and returns its standard output.
   *
   * @throws IllegalStateException if it cannot start, exits non-zero or runs past {@link #TIMEOUT}
   */
  static String run(@Nullable String stdin, List<String> command) {
    Path out = null;
    Path err = null;
    Process p = null;
    try {
      out = Files.createTempFile("switchboard-lab-", ".out");
      err = Files.createTempFile("switchboard-lab-", ".err");
      p =
          new ProcessBuilder(command)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      try (OutputStream in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        // the command exited without reading its input: its status and stderr say why
      }
      if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            String.join(" ", command) + " did not finish within " + TIMEOUT + describe(stdin));
      }
      String stdout = Files.readString(out);
      String stderr = Files.readString(err);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command)
                + " exited with "
                + p.exitValue()
                + ": "
                + (stderr.isBlank() ? stdout.strip() : stderr.strip())
                + describe(stdin));
      }
      return stdout;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + String.join(" ", command), e);
    } catch (InterruptedException e) {
      if (p != null) {
        p.destroyForcibly();
      }
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + String.join(" ", command), e);
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  private static void deleteQuietly(@Nullable Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // a temporary file left behind
      }
    }
  }

  static String run(String... command) {
    return run(null, List.of(command));
  }

  private static String describe(@Nullable String stdin) {
    return stdin == null ? "" : " (input: " + stdin.strip().replace('\n', ';') + ")";
  }
}
