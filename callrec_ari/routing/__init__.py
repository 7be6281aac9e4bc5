"""Routes and retention policies the admin changes at run time, over the config file's."""
