#include <iostream>

#include "base/json.h"
#include "base/strings.h"
#include "cli/app.h"
#include "ops/images.h"

namespace anyarch::cli {

void RegisterStoreCommands(CLI::App& app, Cli& cli) {
  auto json = std::make_shared<bool>(false);
  CLI::App* images = app.add_subcommand(
      "images", "List the images in the local store (--root), with their platforms");
  images->add_flag("--json", *json, "Print JSON");
  images->callback([&cli, json] {
    auto rows = ops::ListImages(cli.StoreRoot());
    if (!rows) return cli.Fail(rows.error());
    if (*json) {
      OrderedJson arr = OrderedJson::array();
      for (const auto& r : *rows) {
        arr.push_back({{"name", r.name},
                       {"digest", r.digest},
                       {"mediaType", r.media_type},
                       {"platforms", r.platforms},
                       {"size", r.size}});
      }
      cli.out() << arr.dump(2) << "\n";
      return;
    }
    cli.out() << "NAME                                      DIGEST         SIZE       PLATFORMS\n";
    for (const auto& r : *rows) {
      std::string name = r.name;
      if (name.size() < 41) name.resize(41, ' ');
      std::string size = HumanSize(r.size);
      if (size.size() < 10) size.resize(10, ' ');
      cli.out() << name << " " << r.digest.substr(7, 12) << "   " << size << " "
                << Join(r.platforms, ",") << "\n";
    }
  });
}

}  // namespace anyarch::cli
