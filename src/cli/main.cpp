// The `roentgen` executable: parses the command line and runs a subcommand.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <variant>

#include "cli/command_line.h"
#include "cli/serve.h"

int main(int argc, char** argv) {
  using roentgen::cli::Command;
  spdlog::set_default_logger(spdlog::stderr_color_mt("roentgen"));

  std::variant<Command, int> parsed =
      roentgen::cli::ParseCommandLine(argc, argv, std::cout, std::cerr);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const Command& command = std::get<Command>(parsed);

  switch (command.kind) {
    case Command::Kind::kQuery:
      return roentgen::cli::RunQuery(command.query, std::cout, std::cerr);
    case Command::Kind::kKeys:
      return roentgen::cli::RunKeys(command.keys, std::cout, std::cerr);
    case Command::Kind::kBackup:
      return roentgen::cli::RunBackup(command.backup, std::cout, std::cerr);
    case Command::Kind::kRestore:
      return roentgen::cli::RunRestore(command.restore, std::cout, std::cerr);
    case Command::Kind::kMigrate:
      return roentgen::cli::RunMigrate(command.migrate, std::cout, std::cerr);
    case Command::Kind::kVersion:
      std::cout << roentgen::cli::VersionString() << "\n";
      return 0;
    case Command::Kind::kServe: {
      roentgen::Status status = roentgen::cli::RunServe(command.serve);
      if (!status.ok()) {
        spdlog::error("{}", status.ToString());
        return 1;
      }
      return 0;
    }
  }
  return 1;
}
