using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Binding for Conveyor's options and those of the store packages (compiled into each package that uses it, a linked
/// source file, so it is no part of any package's public API).
/// </summary>
internal static class ConveyorOptionsBuilderExtensions
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
    public static OptionsBuilder<TOptions> BindFromConfigurationIfPresent<TOptions>(
        this OptionsBuilder<TOptions> builder, string sectionPath, Action<IConfiguration, TOptions> bind)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfigureNamedOptions<TOptions>(builder.Name, options =>
        {
            if (sp.GetService<IConfiguration>() is { } configuration)
            {
                bind(configuration.GetSection(sectionPath), options);
            }
        }));
        return builder;
    }
}
