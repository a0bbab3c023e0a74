namespace Baton.Responses;

/// <summary>
/// A response kept by the Responses API front: the response object as it was answered, and every input item the
/// model saw for it (those of the responses it continued first), so that a continuation needs this one record only.
/// </summary>
/// <param name="Id">The response id (<c>resp_...</c>).</param>
/// <param name="Owner">The caller key's id that created it; null when the gateway runs without keys.</param>
/// <param name="Model">The model that answered.</param>
/// <param name="CreatedAt">When it was created; retention counts from here.</param>
/// <param name="InputItemsJson">The input items as a JSON array, the conversation's earlier items first.</param>
/// <param name="ResponseJson">The response object, as <c>GET /v1/responses/{id}</c> answers it.</param>
public sealed record StoredResponse(
    string Id,
    string? Owner,
    string Model,
    DateTimeOffset CreatedAt,
    string InputItemsJson,
    string ResponseJson);
