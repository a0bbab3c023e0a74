using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Baton.Configuration;
using Baton.Gateway.Hosting;
using Baton.Gateway.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Baton.Gateway.Tests.Hosting;

/// <summary>
/// <c>gateway.tls</c>: the gateway on an <c>https://</c> address of 127.0.0.1 with a certificate made for the test,
/// spoken to over HTTP/2 and HTTP/1.1; and the messages a certificate that cannot be used gives.
/// </summary>
public sealed class HttpsTests : IDisposable
{
    private const string CostComment = ": x-baton-cost-usd ";

    private readonly string _directory = Directory.CreateTempSubdirectory("baton-https-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_stream_over_HTTP2_ends_with_its_cost_as_a_trailer()
    {
        var (certificate, key) = WritePem(encryptWith: null);
        await using var gateway = await StartAsync(new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key });
        using var client = Client(gateway, HttpVersion.Version20);

        using var request = ChatRequest(stream: true, HttpVersion.Version20);
        // The comment as well, to compare: the trailer is the same figure.
        request.Headers.Add("X-Baton-Stream-Cost", "true");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.EndsWith("data: [DONE]", text.TrimEnd());
        var trailer = Assert.Single(response.TrailingHeaders.GetValues("x-baton-cost-usd"));
        var comment = text.Split('\n').Single(line => line.StartsWith(CostComment, StringComparison.Ordinal))[CostComment.Length..];
        Assert.Equal(comment, trailer);
        Assert.True(decimal.Parse(trailer, CultureInfo.InvariantCulture) > 0, trailer);
    }

    [Fact]
    public async Task HTTP1_clients_are_answered_over_TLS_too_with_the_cost_in_the_headers()
    {
        var (certificate, key) = WritePem(encryptWith: null);
        await using var gateway = await StartAsync(new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key });
        using var client = Client(gateway, HttpVersion.Version11);

        using var response = await client.SendAsync(ChatRequest(stream: false, HttpVersion.Version11));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.True(decimal.Parse(response.Headers.GetValues("x-baton-cost-usd").Single(), CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task An_encrypted_key_and_a_PKCS12_file_are_opened_with_the_password_the_environment_holds()
    {
        const string password = "correct horse battery staple";
        var (certificate, key) = WritePem(encryptWith: password);
        var pkcs12 = Path.Combine(_directory, "gateway.pfx");
        using (var pem = X509Certificate2.CreateFromEncryptedPemFile(certificate, password, key))
        {
            await File.WriteAllBytesAsync(pkcs12, pem.Export(X509ContentType.Pkcs12, password));
        }
        string? Environment(string name) => name == "TLS_PASSWORD" ? password : null;

        foreach (var tls in new[]
                 {
                     new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key, PasswordEnv = "TLS_PASSWORD" },
                     new GatewayTlsOptions { CertificatePath = pkcs12, PasswordEnv = "TLS_PASSWORD" },
                 })
        {
            await using var gateway = await StartAsync(tls, Environment);
            using var client = Client(gateway, HttpVersion.Version20);
            using var response = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version20, response.Version);
        }
    }

    [Fact]
    public void A_certificate_that_cannot_be_used_stops_the_start_with_a_message_naming_it_and_never_the_password()
    {
        const string password = "s3cret-pa55word";
        var (certificate, key) = WritePem(encryptWith: password);
        string? Wrong(string name) => name == "TLS_PASSWORD" ? "not-" + password : null;

        var missing = Path.Combine(_directory, "missing.pem");
        var cases = new (GatewayTlsOptions Tls, Func<string, string?> Environment, string Names)[]
        {
            (new GatewayTlsOptions { CertificatePath = missing }, _ => null, missing),
            (new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key, PasswordEnv = "TLS_PASSWORD" }, Wrong, certificate),
            // The certificate alone: its key is elsewhere.
            (new GatewayTlsOptions { CertificatePath = certificate }, _ => null, "gateway.tls.keyPath"),
        };
        foreach (var (tls, environment, names) in cases)
        {
            var error = Assert.Throws<BatonConfigurationException>(() => BatonHosts.BuildGateway(Options(tls), "https://127.0.0.1:0", LogLevel.Warning, environment));
            var message = Assert.Single(error.Errors);
            Assert.StartsWith("gateway.tls", message, StringComparison.Ordinal);
            Assert.True(message.Contains(names, StringComparison.Ordinal), message);
            Assert.DoesNotContain(password, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_certificate_whose_use_is_not_serving_stops_the_start()
    {
        var (certificate, key) = TestCertificates.WritePem(_directory, forServers: false);

        var error = Assert.Throws<BatonConfigurationException>(() =>
            BatonHosts.BuildGateway(Options(new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key }), "https://127.0.0.1:0", LogLevel.Warning, _ => null));

        Assert.Equal($"gateway.tls: the certificate {certificate} is not for servers: its extended key usage does not include server authentication (1.3.6.1.5.5.7.3.1).",
            Assert.Single(error.Errors));
    }

    [Fact]
    public async Task A_certificate_renewed_in_place_is_served_to_new_connections_while_open_ones_keep_theirs()
    {
        var (certificate, key) = WritePem(encryptWith: null);
        var first = TestCertificates.ThumbprintOf(certificate);
        await using var gateway = await StartAsync(new GatewayTlsOptions { CertificatePath = certificate, KeyPath = key });
        var reloader = gateway.Services.GetServices<IHostedService>().OfType<GatewayCertificateReloader>().Single();
        // A kept-alive connection, opened before the renewal: the client trusts the first certificate only.
        using var before = Client(gateway, HttpVersion.Version11);
        Assert.Equal(HttpStatusCode.OK, (await before.GetAsync("/health")).StatusCode);
        Assert.Equal(first, await PresentedThumbprintAsync(gateway));
        Assert.Null(reloader.CheckOnce());

        WritePem(encryptWith: null);
        var renewed = reloader.CheckOnce();

        Assert.NotNull(renewed);
        Assert.Equal(TestCertificates.ThumbprintOf(certificate), renewed.GetCertHashString());
        Assert.NotEqual(first, renewed.GetCertHashString());
        Assert.Equal(renewed.GetCertHashString(), await PresentedThumbprintAsync(gateway));
        Assert.Equal(HttpStatusCode.OK, (await before.GetAsync("/health")).StatusCode);
        Assert.Null(reloader.CheckOnce());
    }

    [Fact]
    public async Task Baton_serve_on_an_https_address_without_a_certificate_says_what_to_configure()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "baton.json"), """
            { "providers": { "sim": { "type": "simulator" } },
              "models": { "m": { "deployments": [ { "provider": "sim", "model": "baton-sim-1" } ] } } }
            """);

        var (exit, _, error) = await CliRun.RunAsync(_directory, "", "serve", "--urls", "https://127.0.0.1:0");

        Assert.Equal(2, exit);
        Assert.Contains("needs a certificate: set gateway.tls.certificatePath", error, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_and_password_settings_without_a_certificate_are_refused()
    {
        var options = Options(new GatewayTlsOptions { KeyPath = "key.pem" });
        Assert.Contains("gateway.tls: keyPath and passwordEnv need certificatePath (the certificate file).", BatonOptionsValidator.Validate(options, _ => null));

        options = Options(new GatewayTlsOptions { CertificatePath = "gateway.pfx", PasswordEnv = "TLS_PASSWORD" });
        Assert.Contains("gateway.tls.passwordEnv: the environment variable TLS_PASSWORD is not set.", BatonOptionsValidator.Validate(options, _ => null));
    }

    private static BatonOptions Options(GatewayTlsOptions tls)
    {
        var options = new BatonOptions();
        options.Providers["sim"] = new ProviderOptions { Type = ProviderTypes.Simulator };
        options.Models["m"] = new ModelOptions
        {
            // Priced, so that the cost the stream ends with is not zero.
            Deployments = [new DeploymentOptions { Provider = "sim", Model = "baton-sim-1", Price = new PriceOptions { Input = 3m, Output = 15m } }],
        };
        options.Gateway.Tls = tls;
        return options;
    }

    private static async Task<WebApplication> StartAsync(GatewayTlsOptions tls, Func<string, string?>? environment = null)
    {
        var gateway = BatonHosts.BuildGateway(Options(tls), "https://127.0.0.1:0", LogLevel.Warning, environment ?? (_ => null));
        await gateway.StartAsync();
        return gateway;
    }

    /// <summary>A client of <paramref name="gateway"/> that trusts the test's certificate (its own, and no other) and speaks <paramref name="version"/> only.</summary>
    private HttpClient Client(WebApplication gateway, Version version)
    {
        var trusted = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_directory, "gateway.crt"));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == trusted.GetCertHashString();
        return new HttpClient(handler)
        {
            BaseAddress = new Uri(GatewayServer.AddressOf(gateway)),
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>The thumbprint of the certificate <paramref name="gateway"/> presents to a new connection.</summary>
    private static async Task<string> PresentedThumbprintAsync(WebApplication gateway)
    {
        string? presented = null;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            presented = certificate?.GetCertHashString();
            return presented is not null;
        };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(GatewayServer.AddressOf(gateway)) };
        using var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return presented!;
    }

    private static HttpRequestMessage ChatRequest(bool stream, Version version) => new(HttpMethod.Post, "/v1/chat/completions")
    {
        Version = version,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Content = new StringContent(
            $$"""{"model":"m","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say something about TLS."}]}""",
            Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
    };

    private (string Certificate, string Key) WritePem(string? encryptWith) => TestCertificates.WritePem(_directory, encryptWith);
}
