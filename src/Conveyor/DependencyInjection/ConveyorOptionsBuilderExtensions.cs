using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Binding for Conveyor's options and those of the store packages (compiled into each package that uses it, a linked
/// source file, so it is no part of any package's public API).
/// </summary>
internal static partial class ConveyorOptionsBuilderExtensions
{
    /// <summary>
    /// Binds the options from <paramref name="sectionPath"/> of the application's <see cref="IConfiguration"/> when one
    /// is registered (any host), and leaves the defaults otherwise (a bare <see cref="ServiceCollection"/> in a test or
    /// a console tool), unlike <c>BindConfiguration</c>, which requires one. <paramref name="bind"/> is
    /// <c>static (section, options) => section.Bind(options, static b => b.ErrorOnUnknownConfiguration = true)</c>
    /// written where the options type is known, so that the configuration binder's source generator replaces it with
    /// generated code (no reflection: trimming and Native AOT keep every setting), and a key that the section's options
    /// do not have (a misspelt setting) stops the start instead of leaving the setting at its default without a word.
    /// </summary>
    /// <remarks>
    /// What the binder refuses (a value it cannot convert, a key the options do not have) stops the start as an
    /// <see cref="OptionsValidationException"/> that names the setting and what it accepts, or the nearest valid key,
    /// as the options' validators word their own failures.
    /// </remarks>
    public static OptionsBuilder<TOptions> BindFromConfigurationIfPresent<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(
        this OptionsBuilder<TOptions> builder, string sectionPath, Action<IConfiguration, TOptions> bind)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfigureNamedOptions<TOptions>(builder.Name, options =>
        {
            if (sp.GetService<IConfiguration>() is { } configuration)
            {
                try
                {
                    bind(configuration.GetSection(sectionPath), options);
                }
                catch (InvalidOperationException e) when (Refusal<TOptions>(sectionPath, e.Message) is { } refusal)
                {
                    throw new OptionsValidationException(builder.Name, typeof(TOptions), [refusal]);
                }
            }
        }));
        return builder;
    }

    /// <summary>The binder's refusal in the words of a setting's message, or null for a message this does not know.</summary>
    private static string? Refusal<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(string sectionPath, string message)
    {
        var settings = typeof(TOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(static p => p.GetIndexParameters().Length == 0).ToArray();
        if (UnconvertibleValue().Match(message) is { Success: true } unconvertible)
        {
            var path = unconvertible.Groups["path"].Value;
            var key = path.StartsWith(sectionPath + ":", StringComparison.OrdinalIgnoreCase) ? path[(sectionPath.Length + 1)..] : path;
            var setting = settings.FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase));
            var accepts = setting is not null
                ? SettingDescriptions.Accepts(setting.PropertyType, SettingDescriptions.RangeOf(setting))
                : AcceptsByName(unconvertible.Groups["type"].Value);
            return $"{path} is '{unconvertible.Groups["value"].Value}'; it accepts {accepts}.";
        }

        // The binder names the type whose key it did not know: a nested object's (Conveyor:Api:RateLimit) keeps the
        // binder's words, since this knows only the section's own keys.
        if (UnknownKeys().Match(message) is { Success: true } unknown && unknown.Groups["type"].Value == typeof(TOptions).FullName)
        {
            var valid = settings.Where(static p => p.CanWrite || typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType) && p.PropertyType != typeof(string))
                .Select(static p => p.Name).Order(StringComparer.OrdinalIgnoreCase).ToArray();
            var keys = unknown.Groups["keys"].Value.Split("', '");
            return string.Join(" ", keys.Select(key => SettingDescriptions.Nearest(key, valid) is { } nearest
                ? $"unknown setting {sectionPath}:{key}; did you mean {sectionPath}:{nearest}?"
                : $"unknown setting {sectionPath}:{key}; the settings under {sectionPath} are: {string.Join(", ", valid)}."));
        }

        return null;
    }

    /// <summary>A value inside a list or dictionary, whose type the binder names: "System.Int32".</summary>
    private static string AcceptsByName(string typeName) => typeName switch
    {
        "System.Int32" or "System.Int64" or "System.Int16" => "a whole number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => SettingDescriptions.Accepts(typeof(TimeSpan), null),
        "System.Double" or "System.Decimal" or "System.Single" => "a number",
        _ => "a " + typeName[(typeName.LastIndexOf('.') + 1)..],
    };

    // The configuration binder's own words (Microsoft.Extensions.Configuration.Binder, reflection and generated alike).
    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<path>[^']+)' to type '(?<type>[^']+)'\.$", RegexOptions.Singleline)]
    private static partial Regex UnconvertibleValue();

    [GeneratedRegex(@"^'ErrorOnUnknownConfiguration' was set on the provided BinderOptions, but the following properties were not found on the instance of (?<type>[^:]+): '(?<keys>.+)'$", RegexOptions.Singleline)]
    private static partial Regex UnknownKeys();
}
