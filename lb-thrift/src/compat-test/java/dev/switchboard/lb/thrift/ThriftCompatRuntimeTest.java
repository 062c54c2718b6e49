package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.thrift.TProcessor;
import org.apache.thrift.protocol.TProtocol;
import org.junit.jupiter.api.Test;

/**
 * Runs only in lb-thrift's {@code thrift-0.20-compat} surefire execution (see lb-thrift/pom.xml):
 * proves that the core client tests next to it really ran on the old runtime, that is libthrift
 * {@code switchboard.compat.libthrift} (0.20.0) with Java from Debian's 0.17 compiler, and
 * lb-thrift's main jar as compiled against the current libthrift.
 */
class ThriftCompatRuntimeTest {
  private static final String EXPECTED = System.getProperty("switchboard.compat.libthrift");

  @Test
  void libthriftOnTheClasspath_isTheOldRelease() {
    assertThat(EXPECTED).as("system property switchboard.compat.libthrift").isNotBlank();
    Path jar = location(TProcessor.class);
    System.out.printf(
        "[thrift compat] libthrift %s from %s; lb-thrift from %s; Echo from %s%n",
        TProcessor.class.getPackage().getImplementationVersion(),
        jar,
        location(ThriftClients.class),
        location(Echo.class));
    assertThat(jar.getFileName()).hasToString("libthrift-" + EXPECTED + ".jar");
    assertThat(TProcessor.class.getPackage().getImplementationVersion()).isEqualTo(EXPECTED);
  }

  @Test
  void classesAndMethodsOfNewerReleases_areAbsent() {
    // Both are in libthrift 0.25.0, neither in 0.20.0: the newer jar is not on the classpath.
    assertThatThrownBy(() -> Class.forName("org.apache.thrift.transport.TNonblockingSSLSocket"))
        .isInstanceOf(ClassNotFoundException.class);
    // Added in 0.23 and called by code from 0.23+ compilers, never by 0.17-generated code.
    assertThat(Arrays.stream(TProtocol.class.getMethods()).map(Method::getName))
        .doesNotContain("incrementRecursionDepth");
  }

  @Test
  void testsAndGeneratedCode_compiledForThisRun_lbThrift_isTheMainJar() {
    Path compiledHere = location(Echo.class);
    assertThat(compiledHere).as("0.17-generated Echo").endsWith(Path.of("compat-test-classes"));
    // Class literals: a core test renamed or dropped from the pom's list breaks this compile.
    for (Class<?> type :
        List.of(
            ThriftClientsTest.class,
            BadServerTest.class,
            GeneratedEchoTest.class,
            EchoHandler.class,
            EchoFailure.class)) {
      assertThat(location(type)).as(type.getSimpleName()).isEqualTo(compiledHere);
    }
    // The jar built from src/main/java against the current libthrift, not a recompiled copy.
    assertThat(location(ThriftClients.class).getFileName().toString())
        .startsWith("lb-thrift-")
        .endsWith(".jar");
  }

  private static Path location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
