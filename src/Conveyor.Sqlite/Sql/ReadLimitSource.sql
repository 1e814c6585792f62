-- ReadLimitSource: the source of a limit definition (0 configuration, 1 API), if there is one.
-- Parameters: @kind, @name. Result: source.
SELECT source FROM limit_definitions WHERE kind = @kind AND name = @name;
