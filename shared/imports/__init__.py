"""District data in: the native CSV bundle (`imports.native`) and the synthetic district of
`cpb seed` (`imports.demo`)."""
