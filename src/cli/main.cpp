// vigie: thin main. Parses the command line, starts the Environment, runs one subcommand.
#include "cli/Cli.hpp"

int main(int argc, char** argv) {
  return vigie::cli::main(argc, argv);
}
