using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;

namespace Baton.Gateway.Endpoints;

/// <summary>
/// Conventions for every endpoint <c>MapBaton</c> maps: an OpenAPI tag a reader understands, chosen by path (so
/// endpoints added later are grouped too, rather than tagged with their handler's class name), and <c>HEAD</c>
/// wherever <c>GET</c> is answered (monitors and link checkers ask with <c>HEAD</c>; the server sends the headers
/// without the body).
/// </summary>
internal static class GatewayConventions
{
    private static readonly (string Prefix, string Tag)[] Tags =
    [
        ("/v1/chat", "Chat"),
        ("/v1/messages", "Messages"),
        ("/v1/embeddings", "Embeddings"),
        ("/v1/models", "Models"),
        ("/v1/files", "Files"),
        ("/v1/batches", "Batches"),
        ("/batch", "Batches"),
        ("/v1/pipelines", "Pipelines"),
        ("/v1/costs", "Costs"),
        ("/v1/cache", "Cache"),
        ("/health", "Health"),
        ("/admin", "Admin"),
        ("/v1/admin", "Admin"),
    ];

    public static void Apply(IEndpointConventionBuilder builder) => builder.Add(endpoint =>
    {
        if (endpoint is RouteEndpointBuilder { RoutePattern.RawText: { } path } && TagFor(path) is { } tag)
        {
            endpoint.Metadata.Add(new TagsAttribute(tag));
        }
        if (endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault() is { } methods &&
            methods.HttpMethods.Contains(HttpMethods.Get) && !methods.HttpMethods.Contains(HttpMethods.Head))
        {
            endpoint.Metadata.Add(new HttpMethodMetadata([.. methods.HttpMethods, HttpMethods.Head], methods.AcceptCorsPreflight));
        }
    });

    /// <summary>The tag of a route; null leaves the endpoint's own.</summary>
    public static string? TagFor(string path)
    {
        var normalised = "/" + path.TrimStart('/');
        foreach (var (prefix, tag) in Tags)
        {
            if (normalised.Equals(prefix, StringComparison.OrdinalIgnoreCase) ||
                normalised.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase) ||
                normalised.StartsWith(prefix + "?", StringComparison.OrdinalIgnoreCase))
            {
                return tag;
            }
        }
        return null;
    }
}
