package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.apache.thrift.TProcessor;
import org.junit.jupiter.api.Test;

/**
 * Which libthrift the tests run on: {@code switchboard.libthrift}, set by lb-thrift's pom to the
 * build's libthrift for the regular run and to the middle release for {@code thrift-middle-compat},
 * which swaps the jar (see lb-thrift/pom.xml).
 */
class LibthriftVersionTest {
  private static final String EXPECTED = System.getProperty("switchboard.libthrift");

  @Test
  void libthriftOnTheClasspath_isTheOneThisRunIsFor() throws URISyntaxException {
    assertThat(EXPECTED).as("system property switchboard.libthrift").isNotBlank();
    Path jar =
        Path.of(TProcessor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    System.out.printf("[thrift] libthrift %s from %s%n", EXPECTED, jar);
    assertThat(jar.getFileName()).hasToString("libthrift-" + EXPECTED + ".jar");
    assertThat(TProcessor.class.getPackage().getImplementationVersion()).isEqualTo(EXPECTED);
  }
}
