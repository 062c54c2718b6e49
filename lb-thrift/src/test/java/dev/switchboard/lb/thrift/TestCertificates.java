package dev.switchboard.lb.thrift;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Self-signed server and client certificates made with the JDK's keytool in a temporary directory,
 * and SSL contexts over them. The server certificate names IP 127.0.0.1.
 */
final class TestCertificates {
  private static final char[] PASSWORD = "changeit".toCharArray();
  private final Path dir;

  private TestCertificates(Path dir) {
    this.dir = dir;
  }

  static TestCertificates create(Path dir) throws IOException, InterruptedException {
    TestCertificates c = new TestCertificates(dir);
    c.keyPair("server", "CN=echo-server", "SAN=ip:127.0.0.1");
    c.keyPair("client", "CN=echo-client", null);
    c.trust("server", "client-trust.p12");
    c.trust("client", "server-trust.p12");
    return c;
  }

  /** The certificates {@link #create} made earlier in {@code dir} (another process's). */
  static TestCertificates existing(Path dir) {
    return new TestCertificates(dir);
  }

  /** The server's key and a trust store holding the client's certificate. */
  SSLContext server() throws IOException, GeneralSecurityException {
    return context("server.p12", "server-trust.p12");
  }

  /** The client's key (for mutual TLS) and a trust store holding the server's certificate. */
  SSLContext client() throws IOException, GeneralSecurityException {
    return context("client.p12", "client-trust.p12");
  }

  /** Trusts the server but has no certificate of its own. */
  SSLContext clientWithoutCertificate() throws IOException, GeneralSecurityException {
    return context(null, "client-trust.p12");
  }

  private SSLContext context(String keyStore, String trustStore)
      throws IOException, GeneralSecurityException {
    SSLContext ctx = SSLContext.getInstance("TLS");
    KeyManagerFactory kmf = null;
    if (keyStore != null) {
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(load(keyStore), PASSWORD);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(load(trustStore));
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  private KeyStore load(String name) throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve(name))) {
      ks.load(in, PASSWORD);
    }
    return ks;
  }

  private void keyPair(String alias, String dname, String extension)
      throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "-genkeypair",
                "-alias",
                alias,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                dname,
                "-validity",
                "2",
                "-keystore",
                alias + ".p12",
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit"));
    if (extension != null) {
      cmd.add("-ext");
      cmd.add(extension);
    }
    keytool(cmd);
    keytool(
        List.of(
            "-exportcert",
            "-alias",
            alias,
            "-keystore",
            alias + ".p12",
            "-storepass",
            "changeit",
            "-rfc",
            "-file",
            alias + ".pem"));
  }

  private void trust(String alias, String trustStore) throws IOException, InterruptedException {
    keytool(
        List.of(
            "-importcert",
            "-noprompt",
            "-alias",
            alias,
            "-file",
            alias + ".pem",
            "-keystore",
            trustStore,
            "-storetype",
            "PKCS12",
            "-storepass",
            "changeit"));
  }

  private void keytool(List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String output =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("keytool " + args + " failed: " + output);
    }
  }
}
