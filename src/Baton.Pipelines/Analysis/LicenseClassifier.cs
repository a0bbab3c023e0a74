namespace Baton.Analysis;

/// <summary>Recognises common licences from the phrases their texts are known by, answering an SPDX id or null.</summary>
internal static class LicenseClassifier
{
    public static string? KindOf(string text)
    {
        var normalised = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        bool Has(string phrase) => normalised.Contains(phrase, StringComparison.OrdinalIgnoreCase);

        if (Has("GNU AFFERO GENERAL PUBLIC LICENSE"))
        {
            return "AGPL-3.0";
        }
        if (Has("GNU LESSER GENERAL PUBLIC LICENSE"))
        {
            return Has("Version 3") ? "LGPL-3.0" : Has("Version 2.1") ? "LGPL-2.1" : "LGPL";
        }
        if (Has("GNU GENERAL PUBLIC LICENSE"))
        {
            return Has("Version 3") ? "GPL-3.0" : Has("Version 2") ? "GPL-2.0" : "GPL";
        }
        if (Has("Apache License") && Has("Version 2.0"))
        {
            return "Apache-2.0";
        }
        if (Has("Mozilla Public License Version 2.0") || Has("Mozilla Public License, v. 2.0"))
        {
            return "MPL-2.0";
        }
        if (Has("Permission is hereby granted, free of charge"))
        {
            return "MIT";
        }
        if (Has("This is free and unencumbered software released into the public domain"))
        {
            return "Unlicense";
        }
        if (Has("Permission to use, copy, modify, and/or distribute this software for any purpose"))
        {
            return "ISC";
        }
        if (Has("Redistribution and use in source and binary forms"))
        {
            return Has("Neither the name") ? "BSD-3-Clause" : "BSD-2-Clause";
        }
        if (Has("Boost Software License"))
        {
            return "BSL-1.0";
        }
        if (Has("CC0 1.0 Universal"))
        {
            return "CC0-1.0";
        }
        return null;
    }
}
