using System.Net;
using System.Net.Http.Headers;
using Baton.Configuration;
using Baton.Providers;
using Baton.Simulation;

namespace Baton.Core.Tests.TestSupport;

/// <summary>
/// Stands in for an upstream inside the process: records every request a provider sends (URL, headers,
/// body) and answers with a canned status, body and headers, such as a provider's published example.
/// </summary>
public sealed class CapturingHandler(HttpStatusCode status, byte[] body, string contentType = "application/json") : HttpMessageHandler
{
    public List<CapturedRequest> Requests { get; } = [];

    public Dictionary<string, string> ResponseHeaders { get; } = new(StringComparer.OrdinalIgnoreCase);

    public sealed record CapturedRequest(HttpMethod Method, Uri Uri, HttpRequestHeaders Headers, string Body);

    public CapturedRequest Last => Requests[^1];

    /// <summary>A provider of the given type whose HTTP goes to this handler.</summary>
    public IChatProvider CreateProvider(string type, string baseUrl, Action<ProviderOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new ProviderOptions { Type = type, BaseUrl = baseUrl, ApiKeyEnv = "TEST_KEY" };
        configure?.Invoke(options);
        var factory = new ProviderFactory(new HttpClient(this), time ?? TimeProvider.System, new SecretRedactor(), name => name == "TEST_KEY" ? TestProviders.FakeKey : null,
            [new ChatProviderType(ProviderTypes.Simulator, context => new SimulatorProvider(context))]);
        return factory.Create("test-" + type, options, new RequestDefaults { TimeoutSeconds = 10 });
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var sent = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add(new CapturedRequest(request.Method, request.RequestUri!, request.Headers, sent));
        var response = new HttpResponseMessage(status) { Content = new ByteArrayContent(body), RequestMessage = request };
        response.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        foreach (var (name, value) in ResponseHeaders)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }
        return response;
    }
}
